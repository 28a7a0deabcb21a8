import type { Command } from './commands';

export interface CommandSpec {
  name: string;
  /** Loaded on demand: `ferry copy` need not load the database client, `ferry migrate` not the engine. */
  load(): Promise<Command>;
}

export const commands: CommandSpec[] = [
  { name: 'check', load: async () => (await import('./check-command')).checkCommand },
  { name: 'copy', load: async () => (await import('./copy-command')).copyCommand },
  { name: 'groupware', load: async () => (await import('./groupware-command')).groupwareCommand },
  { name: 'keys', load: async () => (await import('./keys-command')).keysCommand },
  { name: 'mass', load: async () => (await import('./mass-command')).massCommand },
  { name: 'migrate', load: async () => (await import('./admin-commands')).migrateCommand },
  { name: 'receipts', load: async () => (await import('./receipts-command')).receiptsCommand },
  { name: 'reseal', load: async () => (await import('./admin-commands')).resealCommand },
  { name: 'set-password', load: async () => (await import('./admin-commands')).setPasswordCommand },
];
