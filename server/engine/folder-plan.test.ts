import type { ImapFlow } from 'imapflow';
import { describe, expect, it } from 'vitest';
import {
  buildFolderPlan,
  contestedRoleFolders,
  renameCandidates,
  renameNote,
  detectSpecialUse,
  ensureTargetFolders,
  groupwareCandidates,
  groupwareFolderOptionFor,
  kolabFolderType,
  mapFolderPath,
  planFolders,
  readNamespace,
  type FolderClient,
  type FolderNamespace,
  type ListedFolder,
} from './folder-plan';
import type { FolderPlan, PlannedFolder } from './folder-plan-types';

const SLASH: FolderNamespace = { delimiter: '/', prefix: '' };
const DOT: FolderNamespace = { delimiter: '.', prefix: '' };
const COURIER: FolderNamespace = { delimiter: '.', prefix: 'INBOX.' };

function folder(path: string, flags: string[] = [], extra: Partial<ListedFolder> = {}): ListedFolder {
  const delimiter = extra.delimiter === undefined ? '/' : extra.delimiter;
  return { path, name: delimiter ? (path.split(delimiter).pop() ?? path) : path, delimiter, flags: new Set(flags), subscribed: true, ...extra };
}

/** Source path → target path of a plan, for compact assertions. */
function targets(plan: FolderPlan): Record<string, string> {
  return Object.fromEntries(plan.folders.map((f) => [f.sourcePath, f.targetPath]));
}

function planned(plan: FolderPlan, sourcePath: string): PlannedFolder {
  const found = plan.folders.find((f) => f.sourcePath === sourcePath);
  if (!found) throw new Error(`${sourcePath} is not in the plan`);
  return found;
}

describe('detectSpecialUse', () => {
  it('takes the RFC 6154 attribute, case-insensitively and at any depth', () => {
    expect(detectSpecialUse(folder('[Gmail]/Sent Mail', ['\\HasNoChildren', '\\Sent']))).toBe('\\Sent');
    expect(detectSpecialUse(folder('Whatever', ['\\JUNK']))).toBe('\\Junk');
    expect(detectSpecialUse(folder('Projects/Old', ['\\archive']))).toBe('\\Archive');
    expect(detectSpecialUse(folder('[Gmail]/All Mail', ['\\All']))).toBe('\\All');
    expect(detectSpecialUse(folder('[Gmail]/Starred', ['\\Flagged']))).toBe('\\Flagged');
  });

  it('prefers the attribute over what the name suggests', () => {
    expect(detectSpecialUse(folder('Trash', ['\\Sent']))).toBe('\\Sent');
  });

  it('puts virtual-folder attributes first when a folder claims several uses', () => {
    expect(detectSpecialUse(folder('Mixed', ['\\Trash', '\\All']))).toBe('\\All');
  });

  it("maps Gmail's XLIST attributes", () => {
    expect(detectSpecialUse(folder('[Gmail]/Spam', ['\\Spam']))).toBe('\\Junk');
    expect(detectSpecialUse(folder('[Gmail]/All Mail', ['\\AllMail']))).toBe('\\All');
    expect(detectSpecialUse(folder('[Gmail]/Starred', ['\\Starred']))).toBe('\\Flagged');
  });

  it('trusts specialUse from the server but not imapflow\u2019s own name guess', () => {
    expect(detectSpecialUse(folder('Box', [], { specialUse: '\\Drafts', specialUseSource: 'extension' }))).toBe('\\Drafts');
    expect(detectSpecialUse(folder('Box', [], { specialUse: '\\Drafts' }))).toBe('\\Drafts');
    expect(detectSpecialUse(folder('Projects/Sent', [], { specialUse: '\\Sent', specialUseSource: 'name' }))).toBeNull();
  });

  const byName: [string, string[]][] = [
    [
      '\\Sent',
      ['Sent', 'Sent Items', 'Sent Messages', 'Sent Mail', 'Gesendet', 'Gesendete Objekte', 'Gesendete Elemente', 'Éléments envoyés', 'Envoyés', 'Enviados', 'Elementos enviados', 'Posta inviata', 'Verzonden items', 'Itens enviados', 'Wysłane', 'Elementy wysłane'],
    ],
    ['\\Drafts', ['Drafts', 'Entwürfe', 'Brouillons', 'Borradores', 'Bozze', 'Concepten', 'Rascunhos', 'Kopie robocze']],
    [
      '\\Trash',
      ['Trash', 'Deleted Items', 'Deleted Messages', 'Papierkorb', 'Gelöschte Elemente', 'Gelöschte Objekte', 'Corbeille', 'Éléments supprimés', 'Papelera', 'Elementos eliminados', 'Cestino', 'Verwijderde items', 'Lixeira', 'Kosz'],
    ],
    [
      '\\Junk',
      ['Junk', 'Junk E-mail', 'Junk Email', 'Spam', 'Junk-E-Mail', 'Courrier indésirable', 'Correo no deseado', 'Posta indesiderata', 'Ongewenste e-mail', 'Lixo eletrônico', 'Wiadomości-śmieci'],
    ],
    ['\\Archive', ['Archive', 'Archives', 'Archiv', 'Archivio', 'Archivo', 'Archief', 'Arquivo', 'Archiwum']],
  ];
  it.each(byName)('recognizes %s by name', (use, names) => {
    for (const name of names) expect(detectSpecialUse(folder(name)), name).toBe(use);
  });

  it('ignores case, accents and the spelling of separators in names', () => {
    expect(detectSpecialUse(folder('SENT ITEMS'))).toBe('\\Sent');
    expect(detectSpecialUse(folder('elements envoyes'))).toBe('\\Sent');
    expect(detectSpecialUse(folder('Junk_E-Mail'))).toBe('\\Junk');
    expect(detectSpecialUse(folder('gelöschte  objekte'))).toBe('\\Trash');
  });

  it('matches names directly under INBOX, in either delimiter and as a single name', () => {
    expect(detectSpecialUse(folder('INBOX.Sent', [], { delimiter: '.' }))).toBe('\\Sent');
    expect(detectSpecialUse(folder('INBOX/Papierkorb'))).toBe('\\Trash');
    expect(detectSpecialUse(folder('inbox.Drafts', [], { delimiter: '.' }))).toBe('\\Drafts');
    // A Courier tree copied onto a '/' server without translating the delimiter.
    expect(detectSpecialUse(folder('INBOX.Sent Items'))).toBe('\\Sent');
  });

  it('does not guess from names deeper in the tree', () => {
    expect(detectSpecialUse(folder('Projects/Sent'))).toBeNull();
    expect(detectSpecialUse(folder('INBOX/Projects/Trash'))).toBeNull();
    expect(detectSpecialUse(folder('INBOX.Projects.Trash', [], { delimiter: '.' }))).toBeNull();
  });

  it('does not take names that merely contain a special word', () => {
    expect(detectSpecialUse(folder('Sent to clients'))).toBeNull();
    expect(detectSpecialUse(folder('Spam reports 2023'))).toBeNull();
    expect(detectSpecialUse(folder('INBOX'))).toBeNull();
    expect(detectSpecialUse(folder('All Mail'))).toBeNull();
    expect(detectSpecialUse(folder('Starred'))).toBeNull();
  });

  it('treats the whole path as the name in a flat namespace', () => {
    expect(detectSpecialUse(folder('Sent Items', [], { delimiter: null }))).toBe('\\Sent');
  });
});

describe('mapFolderPath', () => {
  it('swaps the delimiter', () => {
    expect(mapFolderPath('Archiv/2023/Q4', SLASH, DOT)).toBe('Archiv.2023.Q4');
    expect(mapFolderPath('Archiv.2023.Q4', DOT, SLASH)).toBe('Archiv/2023/Q4');
  });

  it('strips the source prefix and adds the target prefix', () => {
    expect(mapFolderPath('INBOX.Projekte.Größe & Co', COURIER, SLASH)).toBe('Projekte/Größe & Co');
    expect(mapFolderPath('Projekte/Größe & Co', SLASH, COURIER)).toBe('INBOX.Projekte.Größe & Co');
    expect(mapFolderPath('INBOX.Old Mail', COURIER, { delimiter: '/', prefix: 'Mail/' })).toBe('Mail/Old Mail');
  });

  it('keeps INBOX as INBOX, in any case and with any prefix', () => {
    expect(mapFolderPath('INBOX', COURIER, SLASH)).toBe('INBOX');
    expect(mapFolderPath('Inbox', SLASH, COURIER)).toBe('INBOX');
    expect(mapFolderPath('inbox', SLASH, DOT)).toBe('INBOX');
  });

  it('keeps children of INBOX under INBOX without prefixing them twice', () => {
    expect(mapFolderPath('INBOX/child', SLASH, DOT)).toBe('INBOX.child');
    expect(mapFolderPath('Inbox/child', SLASH, COURIER)).toBe('INBOX.child');
    expect(mapFolderPath('INBOX.child', DOT, SLASH)).toBe('INBOX/child');
  });

  it('matches an "INBOX." prefix case-insensitively and accepts it without its trailing delimiter', () => {
    expect(mapFolderPath('Inbox.Sent', COURIER, SLASH)).toBe('Sent');
    expect(mapFolderPath('INBOX.Sent', { delimiter: '.', prefix: 'INBOX' }, SLASH)).toBe('Sent');
    expect(mapFolderPath('Sent', SLASH, { delimiter: '.', prefix: 'INBOX' })).toBe('INBOX.Sent');
  });

  it('leaves paths outside the prefix whole', () => {
    expect(mapFolderPath('Shared.Team', COURIER, SLASH)).toBe('Shared/Team');
  });

  it('replaces the target delimiter inside a name with a look-alike instead of nesting', () => {
    expect(mapFolderPath('Releases/v1.2', SLASH, DOT)).toBe('Releases.v1\u20242');
    expect(mapFolderPath('Kunden.A/B GmbH', DOT, SLASH)).toBe('Kunden/A\u2215B GmbH');
    expect(mapFolderPath('Share/C:\\Temp', SLASH, { delimiter: '\\', prefix: '' })).toBe('Share\\C:\uFF3CTemp');
    expect(mapFolderPath('a:b/c', SLASH, { delimiter: ':', prefix: '' })).toBe('a_b:c');
  });

  it('drops empty names from doubled or trailing delimiters', () => {
    expect(mapFolderPath('/Lead//Double/', SLASH, DOT)).toBe('Lead.Double');
  });

  it('keeps the hierarchy readable on a flat target', () => {
    expect(mapFolderPath('Archiv/2023', SLASH, { delimiter: '', prefix: '' })).toBe('Archiv/2023');
  });

  it('answers "" for the namespace root itself', () => {
    expect(mapFolderPath('INBOX.', COURIER, SLASH)).toBe('');
  });

  it('keeps non-ASCII names untouched (encoding is the client\u2019s job)', () => {
    expect(mapFolderPath('Entwürfe/Ärger 😀', SLASH, DOT)).toBe('Entwürfe.Ärger 😀');
  });
});

describe('buildFolderPlan', () => {
  const dovecotTarget = [
    folder('INBOX', [], { delimiter: '.' }),
    folder('Sent', ['\\Sent'], { delimiter: '.' }),
    folder('Drafts', ['\\Drafts'], { delimiter: '.' }),
    folder('Trash', ['\\Trash'], { delimiter: '.' }),
    folder('Junk', ['\\Junk'], { delimiter: '.' }),
  ];

  it('maps special folders to the target folder with the same use, children following', () => {
    const source = [
      folder('INBOX', [], { delimiter: '.' }),
      folder('INBOX.Gesendete Objekte', [], { delimiter: '.' }),
      folder('INBOX.Gesendete Objekte.2022', [], { delimiter: '.' }),
      folder('INBOX.Entwürfe', [], { delimiter: '.' }),
      folder('INBOX.Gelöschte Elemente', [], { delimiter: '.' }),
      folder('INBOX.Junk-E-Mail', [], { delimiter: '.' }),
      folder('INBOX.Kunden', [], { delimiter: '.' }),
    ];
    const plan = buildFolderPlan(source, dovecotTarget, COURIER, DOT);
    expect(targets(plan)).toEqual({
      INBOX: 'INBOX',
      'INBOX.Gesendete Objekte': 'Sent',
      'INBOX.Gesendete Objekte.2022': 'Sent.2022',
      'INBOX.Entwürfe': 'Drafts',
      'INBOX.Gelöschte Elemente': 'Trash',
      'INBOX.Junk-E-Mail': 'Junk',
      'INBOX.Kunden': 'Kunden',
    });
    expect(planned(plan, 'INBOX.Gesendete Objekte').specialUse).toBe('\\Sent');
    expect(planned(plan, 'INBOX.Kunden').specialUse).toBeNull();
    expect(plan.skipped).toEqual([]);
    // Each special folder's new name is in the report; the child follows without a word of its own.
    expect(plan.renamed.map((r) => r.sourcePath)).toEqual(['INBOX.Gesendete Objekte', 'INBOX.Entwürfe', 'INBOX.Gelöschte Elemente', 'INBOX.Junk-E-Mail']);
    expect(planned(plan, 'INBOX.Gesendete Objekte').note).toBe("'INBOX.Gesendete Objekte' goes into the target's Sent folder 'Sent'.");
  });

  it('finds the target folder by name when the target has no SPECIAL-USE', () => {
    const source = [folder('Sent Items', ['\\Sent']), folder('Deleted Items')];
    const target = [folder('INBOX.Sent', [], { delimiter: '.' }), folder('INBOX.Trash', [], { delimiter: '.' })];
    expect(targets(buildFolderPlan(source, target, SLASH, COURIER))).toEqual({ 'Sent Items': 'INBOX.Sent', 'Deleted Items': 'INBOX.Trash' });
  });

  it('prefers the target folder with the attribute over one that only has the name', () => {
    const target = [folder('Sent'), folder('Gesendet', ['\\Sent'])];
    expect(targets(buildFolderPlan([folder('Sent Items', ['\\Sent'])], target, SLASH, SLASH))).toEqual({ 'Sent Items': 'Gesendet' });
  });

  it('on a resync picks the name-matched target folder that carries the source name', () => {
    // The first run found no Sent folder on the target and created "Gesendet" by path; now two
    // target folders match by name and imapflow may list either first.
    const target = [folder('Sent'), folder('Gesendet')];
    expect(targets(buildFolderPlan([folder('Gesendet', ['\\Sent'])], target, SLASH, SLASH))).toEqual({ Gesendet: 'Gesendet' });
  });

  it('ignores target folders that cannot hold the special use', () => {
    const target = [folder('Sent', ['\\Noselect']), folder('Trash', ['\\NonExistent', '\\Noselect']), folder('Projects/Junk')];
    expect(targets(buildFolderPlan([folder('Sent Items'), folder('Gelöscht'), folder('Spam')], target, SLASH, SLASH))).toEqual({
      'Sent Items': 'Sent Items',
      Gelöscht: 'Gelöscht',
      Spam: 'Spam',
    });
  });

  it('recognizes names directly below any personal prefix, on both sides', () => {
    const mailNs: FolderNamespace = { delimiter: '/', prefix: 'Mail/' };
    const source = [folder('Mail/Gesendet'), folder('Mail/Projekte/Trash')];
    const target = [folder('Mail/Sent Items'), folder('Mail/Trash')];
    const plan = buildFolderPlan(source, target, mailNs, mailNs);
    expect(targets(plan)).toEqual({ 'Mail/Gesendet': 'Mail/Sent Items', 'Mail/Projekte/Trash': 'Mail/Projekte/Trash' });
  });

  it('maps a special folder by path when the target has none of that use', () => {
    const plan = buildFolderPlan([folder('Archiv/2023/Q4'), folder('Archiv')], dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({ 'Archiv/2023/Q4': 'Archiv.2023.Q4', Archiv: 'Archiv' });
    expect(planned(plan, 'Archiv').specialUse).toBe('\\Archive');
  });

  it('lets the folder with the attribute win and keeps the other under its own name', () => {
    const source = [folder('Sent Items'), folder('Sent', ['\\Sent'])];
    const plan = buildFolderPlan(source, [folder('Gesendet', ['\\Sent'])], SLASH, SLASH);
    expect(targets(plan)).toEqual({ 'Sent Items': 'Sent Items', Sent: 'Gesendet' });
    // The other one is a plain folder now, and the plan says so.
    expect(planned(plan, 'Sent Items').specialUse).toBeNull();
    expect(plan.notices).toEqual([{ folder: 'Sent', text: expect.stringMatching(/^"Sent" is the Sent folder \(the source server marks it as such\); "Sent Items" keeps its name as a plain folder/) }]);
  });

  it('lets the first one win when none has the attribute and nothing is counted', () => {
    const source = [folder('Gesendet'), folder('Sent Items')];
    expect(targets(buildFolderPlan(source, dovecotTarget, SLASH, DOT))).toEqual({ Gesendet: 'Sent', 'Sent Items': 'Sent Items' });
  });

  it('gives a special use claimed by two names to the folder with more messages', () => {
    const source = [folder('INBOX'), folder('Éléments envoyés'), folder('Gesendet')];
    expect(contestedRoleFolders(source, SLASH)).toEqual(['Éléments envoyés', 'Gesendet']);
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT, { messageCounts: new Map([['Gesendet', 40], ['Éléments envoyés', 2]]) });
    expect(targets(plan)).toEqual({ INBOX: 'INBOX', Gesendet: 'Sent', 'Éléments envoyés': 'Éléments envoyés' });
    expect(planned(plan, 'Éléments envoyés').specialUse).toBeNull();
    expect(plan.notices?.[0]?.text).toBe('"Gesendet" (40 messages) is the Sent folder (it holds the most messages); "Éléments envoyés" (2 messages) keeps its name as a plain folder.');
    // With an attribute there is nothing to count.
    expect(contestedRoleFolders([folder('Sent', ['\\Sent']), folder('Gesendet')], SLASH)).toEqual([]);
  });

  it("recognises Gmail's folders by name below its container, in both spellings", () => {
    const source = [folder('[Gmail]', ['\\Noselect']), folder('[Gmail]/Sent Mail'), folder('[Google Mail]/Bin'), folder('[Gmail]/Starred'), folder('[Gmail]/Important')];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({ '[Gmail]/Sent Mail': 'Sent', '[Google Mail]/Bin': 'Trash' });
    expect(plan.skipped.map((s) => s.sourcePath).sort()).toEqual(['[Gmail]', '[Gmail]/Important', '[Gmail]/Starred']);
  });

  it('renames the loser whose own name is the special target, never sharing a path', () => {
    const source = [folder('Sent'), folder('Sent Items', ['\\Sent']), folder('Sent/2020')];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({ 'Sent Items': 'Sent', Sent: 'Sent (2)', 'Sent/2020': 'Sent (2).2020' });
    expect(plan.renamed).toEqual([
      { sourcePath: 'Sent Items', targetPath: 'Sent', reason: "'Sent Items' goes into the target's Sent folder 'Sent'." },
      { sourcePath: 'Sent', targetPath: 'Sent (2)', reason: "'Sent' is called 'Sent (2)' on the target: 'Sent' is already the target of 'Sent Items'." },
    ]);
  });

  it('never maps two source folders to the same path, whatever the cause', () => {
    const source = [
      folder('INBOX', [], { delimiter: '.' }),
      folder('INBOX.INBOX', [], { delimiter: '.' }),
      folder('INBOX.Foo', [], { delimiter: '.' }),
      folder('Foo', [], { delimiter: '.' }),
      folder('a\u2024b', [], { delimiter: '.' }),
    ];
    // Courier source: "INBOX.Foo" is top-level "Foo", and "Foo" lies outside the namespace.
    const plan = buildFolderPlan(source, [], COURIER, SLASH);
    const paths = plan.folders.map((f) => f.targetPath);
    expect(new Set(paths).size).toBe(paths.length);
    expect(targets(plan)).toEqual({ INBOX: 'INBOX', 'INBOX.INBOX': 'INBOX (2)', 'INBOX.Foo': 'Foo', Foo: 'Foo (2)', 'a\u2024b': 'a\u2024b' });
  });

  it('tells INBOX from a folder named INBOX below an "INBOX." prefix', () => {
    const source = [folder('INBOX', [], { delimiter: '.' }), folder('INBOX.INBOX', [], { delimiter: '.' }), folder('INBOX.INBOX.x', [], { delimiter: '.' })];
    expect(targets(buildFolderPlan(source, [], COURIER, COURIER))).toEqual({ INBOX: 'INBOX', 'INBOX.INBOX': 'INBOX.INBOX', 'INBOX.INBOX.x': 'INBOX.INBOX.x' });
    // Without a prefix on the target, "INBOX" would be INBOX itself.
    expect(targets(buildFolderPlan(source, [], COURIER, SLASH))).toEqual({ INBOX: 'INBOX', 'INBOX.INBOX': 'INBOX (2)', 'INBOX.INBOX.x': 'INBOX (2)/x' });
    // And a child of INBOX on a Dovecot-style source lands in the Courier namespace once.
    expect(targets(buildFolderPlan([folder('INBOX'), folder('INBOX/INBOX')], [], SLASH, COURIER))).toEqual({ INBOX: 'INBOX', 'INBOX/INBOX': 'INBOX.INBOX' });
  });

  it('records names whose characters were replaced for the target delimiter', () => {
    const plan = buildFolderPlan([folder('Releases'), folder('Releases/v1.2'), folder('Releases/v1.2/Notes')], [], SLASH, DOT);
    expect(targets(plan)).toEqual({ Releases: 'Releases', 'Releases/v1.2': 'Releases.v1\u20242', 'Releases/v1.2/Notes': 'Releases.v1\u20242.Notes' });
    expect(plan.renamed).toHaveLength(1);
    expect(plan.renamed[0]).toMatchObject({ sourcePath: 'Releases/v1.2', targetPath: 'Releases.v1\u20242' });
    expect(plan.renamed[0]?.reason).toMatch(/hierarchy delimiter/);
  });

  it("skips Gmail's virtual folders and a [Gmail] container left empty, saying why", () => {
    const source = [
      folder('INBOX'),
      folder('[Gmail]', ['\\Noselect', '\\HasChildren']),
      folder('[Gmail]/All Mail', ['\\All']),
      folder('[Gmail]/Starred', ['\\Flagged']),
      folder('[Gmail]/Sent Mail', ['\\Sent']),
      folder('[Gmail]/Spam', ['\\Junk']),
      folder('[Gmail]/Trash', ['\\Trash']),
      folder('[Gmail]/Drafts', ['\\Drafts']),
      folder('Receipts'),
    ];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({
      INBOX: 'INBOX',
      '[Gmail]/Sent Mail': 'Sent',
      '[Gmail]/Spam': 'Junk',
      '[Gmail]/Trash': 'Trash',
      '[Gmail]/Drafts': 'Drafts',
      Receipts: 'Receipts',
      // Archived mail, copied last: only what no other folder holds.
      '[Gmail]/All Mail': 'Archive',
    });
    expect(planned(plan, '[Gmail]/All Mail').specialUse).toBe('\\All');
    expect(plan.folders.at(-1)?.sourcePath).toBe('Receipts');
    expect(plan.skipped.map((s) => s.sourcePath).sort()).toEqual(['[Gmail]', '[Gmail]/Starred']);
    expect(plan.skipped.find((s) => s.sourcePath === '[Gmail]/Starred')?.reason).toMatch(/\\Flagged/);
    expect(plan.notices?.map((n) => n.text)).toContain('"[Gmail]/All Mail" shows every message: only those in no other folder (archived mail) are copied, into "Archive".');
    expect(plan.skipped.find((s) => s.sourcePath === '[Gmail]')?.reason).toMatch(/\\Noselect/);
  });

  it('keeps a \\Noselect container that still holds a folder, and one without children', () => {
    const source = [folder('[Gmail]', ['\\Noselect']), folder('[Gmail]/Receipts'), folder('Empty container', ['\\Noselect'])];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({ '[Gmail]': '[Gmail]', '[Gmail]/Receipts': '[Gmail].Receipts', 'Empty container': 'Empty container' });
    expect(planned(plan, '[Gmail]').isSelectable).toBe(false);
    expect(planned(plan, '[Gmail]/Receipts').isSelectable).toBe(true);
  });

  it('drops a container whose only children are skipped virtual folders', () => {
    const source = [folder('[Gmail]', ['\\Noselect']), folder('[Gmail]/Starred', ['\\Flagged'])];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(plan.folders).toEqual([]);
    expect(plan.skipped.map((s) => s.sourcePath)).toEqual(['[Gmail]/Starred', '[Gmail]']);
  });

  it("puts All Mail beside the source's own Archive, never into it", () => {
    const source = [folder('Archive', ['\\Archive']), folder('[Gmail]/All Mail', ['\\All'])];
    expect(targets(buildFolderPlan(source, [folder('Archive', ['\\Archive'])], SLASH, SLASH))).toEqual({ Archive: 'Archive', '[Gmail]/All Mail': 'Archive (2)' });
  });

  it('drops nested containers from the inside out', () => {
    const source = [folder('A', ['\\Noselect']), folder('A/B', ['\\Noselect']), folder('A/B/Sent', ['\\Sent'])];
    const plan = buildFolderPlan(source, dovecotTarget, SLASH, DOT);
    expect(targets(plan)).toEqual({ 'A/B/Sent': 'Sent' });
    expect(plan.skipped.map((s) => s.sourcePath)).toEqual(['A/B', 'A']);
  });

  it('skips \\NonExistent placeholders but still maps their children by path', () => {
    const source = [folder('Archiv', ['\\NonExistent', '\\Noselect', '\\HasChildren']), folder('Archiv/2023/Q4')];
    const plan = buildFolderPlan(source, [], SLASH, DOT);
    expect(targets(plan)).toEqual({ 'Archiv/2023/Q4': 'Archiv.2023.Q4' });
    expect(plan.skipped).toEqual([{ sourcePath: 'Archiv', reason: expect.stringMatching(/NonExistent/) }]);
  });

  it('never uses a \\Noselect or \\NonExistent source folder as a special folder', () => {
    const source = [folder('Sent', ['\\Noselect']), folder('Sent/2021'), folder('Gesendet')];
    expect(targets(buildFolderPlan(source, dovecotTarget, SLASH, DOT))).toEqual({ Sent: 'Sent (2)', 'Sent/2021': 'Sent (2).2021', Gesendet: 'Sent' });
  });

  it('skips folders of other users and shared namespaces', () => {
    const ns: FolderNamespace = { ...SLASH, otherPrefixes: ['Other Users/', 'Shared/'] };
    const source = [folder('INBOX'), folder('Shared/Team'), folder('Other Users/bob/INBOX'), folder('Shared Notes')];
    const plan = buildFolderPlan(source, [], ns, DOT);
    expect(targets(plan)).toEqual({ INBOX: 'INBOX', 'Shared Notes': 'Shared Notes' });
    expect(plan.skipped.map((s) => s.sourcePath)).toEqual(['Shared/Team', 'Other Users/bob/INBOX']);
  });

  it('does not look for special targets in the target\u2019s shared namespaces', () => {
    const target = [folder('Shared/Sent', ['\\Sent']), folder('Sent')];
    const plan = buildFolderPlan([folder('Sent Items', ['\\Sent'])], target, SLASH, { ...SLASH, otherPrefixes: ['Shared/'] });
    expect(targets(plan)).toEqual({ 'Sent Items': 'Sent' });
  });

  it('skips a path listed twice', () => {
    const plan = buildFolderPlan([folder('INBOX'), folder('Notes'), folder('Notes')], [], SLASH, DOT);
    expect(plan.folders).toHaveLength(2);
    expect(plan.skipped).toEqual([{ sourcePath: 'Notes', reason: 'is listed twice by the server' }]);
  });

  it('carries subscriptions and selectability over', () => {
    const source = [
      folder('INBOX', [], { subscribed: false }),
      folder('Old Mail', [], { subscribed: false }),
      folder('Kunden', ['\\Noselect', '\\HasNoChildren']),
      folder('Projekte/Größe & Co'),
    ];
    const plan = buildFolderPlan(source, [], SLASH, DOT);
    expect(plan.folders).toEqual([
      { sourcePath: 'INBOX', targetPath: 'INBOX', specialUse: null, isSubscribed: false, isSelectable: true, note: null },
      { sourcePath: 'Old Mail', targetPath: 'Old Mail', specialUse: null, isSubscribed: false, isSelectable: true, note: null },
      { sourcePath: 'Kunden', targetPath: 'Kunden', specialUse: null, isSubscribed: true, isSelectable: false, note: null },
      { sourcePath: 'Projekte/Größe & Co', targetPath: 'Projekte.Größe & Co', specialUse: null, isSubscribed: true, isSelectable: true, note: null },
    ]);
    // Where the list said nothing about subscriptions, INBOX counts as subscribed.
    expect(buildFolderPlan([folder('INBOX', [], { subscribed: undefined })], [], SLASH, DOT).folders[0]?.isSubscribed).toBe(true);
  });

  it('skips the namespace root', () => {
    const plan = buildFolderPlan([folder('INBOX.', [], { delimiter: '.' })], [], COURIER, SLASH);
    expect(plan.folders).toEqual([]);
    expect(plan.skipped[0]?.reason).toMatch(/namespace root/);
  });

  it('keeps the source order in the plan', () => {
    const source = [folder('Zeta'), folder('Sent Items', ['\\Sent']), folder('Alpha'), folder('INBOX')];
    expect(buildFolderPlan(source, dovecotTarget, SLASH, DOT).folders.map((f) => f.sourcePath)).toEqual(['Zeta', 'Sent Items', 'Alpha', 'INBOX']);
  });
});

describe('readNamespace', () => {
  const client = (namespaces: unknown) =>
    ({ namespaces, namespace: (namespaces as { personal: unknown[] } | undefined)?.personal[0] }) as Pick<ImapFlow, 'namespace' | 'namespaces'>;

  it('reads the personal namespace', () => {
    expect(readNamespace(client({ personal: [{ prefix: '', delimiter: '/' }], other: false, shared: false }))).toEqual({
      delimiter: '/',
      prefix: '',
      otherPrefixes: [],
    });
  });

  it('completes a prefix without its delimiter and lists foreign namespaces', () => {
    const ns = client({
      personal: [{ prefix: 'INBOX', delimiter: '.' }],
      other: [{ prefix: '~', delimiter: '.' }],
      shared: [{ prefix: '#shared.', delimiter: '.' }],
    });
    expect(readNamespace(ns)).toEqual({ delimiter: '.', prefix: 'INBOX.', otherPrefixes: ['~', '#shared.'] });
  });

  it('prefers the delimiter LIST reported over imapflow\u2019s stand-in for a NIL namespace', () => {
    const ns = client({ personal: [{ prefix: '', delimiter: '.' }], other: false, shared: false });
    expect(readNamespace(ns, [folder('Notes'), folder('INBOX')]).delimiter).toBe('/');
  });

  it('reports a flat namespace as an empty delimiter', () => {
    const ns = client({ personal: [{ prefix: '', delimiter: null }], other: false, shared: false });
    expect(readNamespace(ns, [folder('INBOX', [], { delimiter: null })]).delimiter).toBe('');
  });
});

/** Just enough of ImapFlow for ensureTargetFolders, answering CREATE from a script. */
function fakeTarget(listed: ListedFolder[], onCreate: (path: string) => { created: boolean } | Error) {
  const calls: string[] = [];
  const client = {
    namespace: { prefix: '', delimiter: '/' },
    namespaces: { personal: [{ prefix: '', delimiter: '/' }], other: false, shared: false },
    list: async () => listed,
    mailboxCreate: async (path: string) => {
      calls.push(`CREATE ${path}`);
      const answer = onCreate(path);
      if (answer instanceof Error) throw answer;
      return { path, ...answer };
    },
    mailboxSubscribe: async (path: string) => (calls.push(`SUBSCRIBE ${path}`), true),
    mailboxUnsubscribe: async (path: string) => (calls.push(`UNSUBSCRIBE ${path}`), true),
  };
  return { client: client as unknown as ImapFlow, calls };
}

function imapError(status: string, text: string, code?: string): Error {
  return Object.assign(new Error('Command failed'), { responseStatus: status, responseText: text, serverResponseCode: code });
}

function planOf(...folders: [string, Partial<PlannedFolder>?][]): FolderPlan {
  return {
    folders: folders.map(([path, extra]) => ({ sourcePath: path, targetPath: path, specialUse: null, isSubscribed: true, isSelectable: true, ...extra })),
    skipped: [],
  };
}

describe('ensureTargetFolders with a scripted server', () => {
  it('treats an "already exists" NO without response code as existed', async () => {
    const { client } = fakeTarget([], () => imapError('NO', 'Mailbox already exists'));
    expect(await ensureTargetFolders(client, planOf(['Notes']))).toEqual([{ sourcePath: 'Notes', targetPath: 'Notes', status: 'existed' }]);
  });

  it('reports a folder refused under every name, without Dovecot-style timing, and goes on', async () => {
    const { client } = fakeTarget([], (path) => (path === 'Good' ? { created: true } : imapError('BAD', 'Invalid name (0.001 + 0.000 + 0.002 secs).')));
    expect(await ensureTargetFolders(client, planOf(['Bad'], ['Good']))).toEqual([
      { sourcePath: 'Bad', targetPath: 'Bad', status: 'refused', reason: 'Invalid name.' },
      { sourcePath: 'Good', targetPath: 'Good', status: 'created' },
    ]);
  });

  it('renames a refused name with visible stand-ins, keeps the hierarchy below it and never merges two folders', async () => {
    // As Cyrus does: no "%" and no "!" in a name, with or without [CANNOT].
    const { client, calls } = fakeTarget([], (path) => (/[%!]/.test(path) ? imapError('NO', 'Invalid mailbox name', path.includes('!') ? 'CANNOT' : undefined) : { created: true }));
    const plan = planOf(['Projekte 50%'], ['Projekte 50%/Q1'], ['Projekte 50_'], ['Hi!']);
    const results = await ensureTargetFolders(client, plan);
    expect(results).toEqual([
      { sourcePath: 'Projekte 50%', targetPath: 'Projekte 50_ (2)', refusedPath: 'Projekte 50%', status: 'created', reason: 'Invalid mailbox name' },
      { sourcePath: 'Projekte 50%/Q1', targetPath: 'Projekte 50_ (2)/Q1', status: 'created' },
      { sourcePath: 'Projekte 50_', targetPath: 'Projekte 50_', status: 'created' },
      { sourcePath: 'Hi!', targetPath: 'Hi_', refusedPath: 'Hi!', status: 'created', reason: '[CANNOT] Invalid mailbox name' },
    ]);
    expect(renameNote('Projekte 50%', results[0]!)).toBe(`'Projekte 50%' is called 'Projekte 50_ (2)' on the target: the server refused the name ("Invalid mailbox name").`);
    expect(calls.filter((c) => c.startsWith('CREATE'))).toEqual(['CREATE Projekte 50%', 'CREATE Projekte 50_ (2)', 'CREATE Projekte 50_', 'CREATE Hi!', 'CREATE Hi_', 'CREATE Projekte 50_ (2)/Q1']);
    // The same refusals give the same names: a later pass lands in the same folders.
    const again = await ensureTargetFolders(fakeTarget([], (path) => (/[%!]/.test(path) ? imapError('NO', 'Invalid mailbox name') : { created: true })).client, plan);
    expect(again.map((r) => r.targetPath)).toEqual(results.map((r) => r.targetPath));
  });

  it('puts a folder where an earlier pass put it, and the folders below follow', async () => {
    const { client, calls } = fakeTarget([], () => ({ created: true }));
    const stored = new Map([['Projekte 50%', 'Projekte 50_']]);
    const results = await ensureTargetFolders(client, planOf(['Projekte 50%'], ['Projekte 50%/Neu']), { stored });
    expect(results.map((r) => r.targetPath)).toEqual(['Projekte 50_', 'Projekte 50_/Neu']);
    expect(calls.filter((c) => c.startsWith('CREATE'))).toEqual(['CREATE Projekte 50_', 'CREATE Projekte 50_/Neu']);
  });

  it('names stand-ins deterministically, each candidate replacing more', () => {
    expect(renameCandidates('Projekte 50%')).toEqual(['Projekte 50_', `Folder ${renameCandidates('Projekte 50%').at(-1)!.slice(7)}`]);
    expect(renameCandidates('Party 🎉 100%')[0]).toBe('Party _ 100%');
    expect(renameCandidates('Party 🎉 100%')[1]).toBe('Party 🎉 100_');
    expect(renameCandidates('Party 🎉 100%')[2]).toBe('Party _ 100_');
    expect(renameCandidates(' Café "x" ')).toContain('_Café _x__');
    expect(renameCandidates(' Café "x" ')).toContain('_Cafe _x__');
    expect(renameCandidates('Plain')).toEqual([expect.stringMatching(/^Folder [0-9a-f]{8}$/)]);
    expect(renameCandidates('Plain')).toEqual(renameCandidates('Plain'));
    expect(renameCandidates('Other')).not.toEqual(renameCandidates('Plain'));
  });

  it('stops on anything that is not the server refusing the name', async () => {
    const { client } = fakeTarget([], () => Object.assign(new Error('Connection not available'), { code: 'NoConnection' }));
    await expect(ensureTargetFolders(client, planOf(['Notes']))).rejects.toThrow('Connection not available');
    const throttled = fakeTarget([], () => Object.assign(imapError('BAD', 'Too many commands'), { code: 'ETHROTTLE' }));
    await expect(ensureTargetFolders(throttled.client, planOf(['Notes']))).rejects.toThrow();
  });

  it('creates parents first and refuses what lies below a refused parent without asking', async () => {
    const { client, calls } = fakeTarget([], (path) => (/^(A|Folder [0-9a-f]{8})$/.test(path) ? imapError('NO', 'No.', 'CANNOT') : { created: true }));
    const results = await ensureTargetFolders(client, planOf(['A/B/C'], ['A/B'], ['A'], ['AB']));
    expect(results).toEqual([
      { sourcePath: 'A/B/C', targetPath: 'A/B/C', status: 'refused', reason: 'its parent folder "A/B" was refused' },
      { sourcePath: 'A/B', targetPath: 'A/B', status: 'refused', reason: 'its parent folder "A" was refused' },
      { sourcePath: 'A', targetPath: 'A', status: 'refused', reason: '[CANNOT] No.' },
      { sourcePath: 'AB', targetPath: 'AB', status: 'created' },
    ]);
    expect(calls).toEqual(['CREATE A', `CREATE ${renameCandidates('A')[0]}`, 'CREATE AB']);
  });

  it('mirrors the subscription of a new folder but only ever adds one to an existing folder', async () => {
    const listed = [folder('Kept', [], { subscribed: true }), folder('Unsubscribed', [], { subscribed: false })];
    const { client, calls } = fakeTarget(listed, () => ({ created: true }));
    const plan = planOf(['Kept', { isSubscribed: false }], ['Unsubscribed', { isSubscribed: true }], ['New', { isSubscribed: false }], ['Newer']);
    await ensureTargetFolders(client, plan);
    expect(calls).toEqual(['SUBSCRIBE Unsubscribed', 'CREATE New', 'UNSUBSCRIBE New', 'CREATE Newer']);
  });

  it('creates a folder that only exists as a placeholder when the plan needs it selectable', async () => {
    const listed = [folder('Parent', ['\\NonExistent', '\\Noselect']), folder('Box', ['\\Noselect']), folder('Holder', ['\\Noselect'])];
    const { client, calls } = fakeTarget(listed, () => ({ created: true }));
    const results = await ensureTargetFolders(client, planOf(['Parent'], ['Box'], ['Holder', { isSelectable: false }]));
    expect(results.map((r) => r.status)).toEqual(['created', 'created', 'existed']);
    expect(calls).toEqual(['CREATE Parent', 'CREATE Box']);
  });

  it('says so when the server will not keep the subscription', async () => {
    const { client } = fakeTarget([], () => ({ created: true }));
    (client as unknown as { mailboxUnsubscribe: () => Promise<boolean> }).mailboxUnsubscribe = async () => false;
    const [result] = await ensureTargetFolders(client, planOf(['Quiet', { isSubscribed: false }]));
    expect(result).toMatchObject({ status: 'created', subscriptionRefused: true });
  });
});

describe('folders that hold groupware', () => {
  const kolabSource = [
    folder('INBOX'),
    folder('Work'),
    folder('Sent', ['\\Sent']),
    folder('Calendar'),
    folder('Calendar/Team'),
    folder('Contacts'),
    folder('Tasks'),
    folder('Notes'),
    folder('Configuration'),
    folder('Projects'),
    folder('Odd'),
  ];
  const kolabTypes = new Map([
    ['INBOX', 'mail.inbox'],
    ['Sent', 'mail.sentitems'],
    ['Calendar', 'event.default'],
    ['Calendar/Team', 'event'],
    ['Contacts', 'contact.default'],
    ['Tasks', 'task'],
    ['Notes', 'note'],
    ['Configuration', 'configuration.default'],
    ['Projects', 'mail'],
    ['Odd', 'x-something-new'],
  ]);

  it('gives the option by the source account type', () => {
    expect(groupwareFolderOptionFor('kolab')).toEqual({ kind: 'kolab' });
    expect(groupwareFolderOptionFor('zimbra')).toEqual({ kind: 'zimbra' });
    expect(groupwareFolderOptionFor('exchange')).toEqual({ kind: 'exchange' });
    expect(groupwareFolderOptionFor('office365')).toEqual({ kind: 'exchange' });
    expect(groupwareFolderOptionFor('openxchange')).toBeUndefined();
    expect(groupwareFolderOptionFor('imap')).toBeUndefined();
  });

  it('reads Kolab folder types: mail and unknown types stay mail', () => {
    expect(kolabFolderType('event.default')).toBe('event');
    expect(kolabFolderType('Contact')).toBe('contact');
    expect(kolabFolderType('freebusy')).toBe('freebusy');
    expect(kolabFolderType('file')).toBe('file');
    expect(kolabFolderType('mail')).toBeNull();
    expect(kolabFolderType('mail.drafts')).toBeNull();
    expect(kolabFolderType('x-unknown')).toBeNull();
    expect(kolabFolderType('')).toBeNull();
    expect(kolabFolderType(undefined)).toBeNull();
  });

  it('leaves Kolab-typed folders out of the plan, moved or skipped by what the groupware copy carries', () => {
    const plan = buildFolderPlan(kolabSource, [folder('INBOX')], SLASH, SLASH, { groupwareFolders: { kind: 'kolab' }, folderTypes: kolabTypes, messageCounts: new Map([['Calendar', 3], ['Notes', 1]]) });
    expect(plan.folders.map((f) => f.sourcePath)).toEqual(['INBOX', 'Work', 'Sent', 'Projects', 'Odd']);
    expect(plan.groupware).toEqual([
      { sourcePath: 'Calendar', type: 'event', treatment: 'moved', by: 'metadata' },
      { sourcePath: 'Calendar/Team', type: 'event', treatment: 'moved', by: 'metadata' },
      { sourcePath: 'Contacts', type: 'contact', treatment: 'moved', by: 'metadata' },
      { sourcePath: 'Tasks', type: 'task', treatment: 'moved', by: 'metadata' },
      { sourcePath: 'Notes', type: 'note', treatment: 'skipped', by: 'metadata' },
      { sourcePath: 'Configuration', type: 'configuration', treatment: 'skipped', by: 'metadata' },
    ]);
    // Not the generic "was not copied" list: they are groupware, not mail left behind.
    expect(plan.skipped).toEqual([]);
    const texts = plan.notices!.map((n) => n.text);
    expect(texts).toContain('"Calendar" is not copied as mail: it holds calendar events (Kolab folder type "event.default"), moved as groupware.');
    expect(texts).toContain('"Notes" is skipped: it holds notes (Kolab folder type "note"), which the groupware copy does not carry.');
    expect(texts).toContain('"Contacts" is not copied as mail: it holds contacts (Kolab folder type "contact.default"), moved as groupware.');
  });

  it('says "moved" for exactly the types the groupware copy carries', () => {
    const plan = buildFolderPlan(kolabSource, [], SLASH, SLASH, { groupwareFolders: { kind: 'kolab', carried: ['event', 'note'] }, folderTypes: kolabTypes });
    const treatment = Object.fromEntries(plan.groupware!.map((g) => [g.sourcePath, g.treatment]));
    expect(treatment).toEqual({ Calendar: 'moved', 'Calendar/Team': 'moved', Contacts: 'skipped', Tasks: 'skipped', Notes: 'moved', Configuration: 'skipped' });
  });

  it('plans every folder as mail without the option, folder types or not', () => {
    const plan = buildFolderPlan(kolabSource, [], SLASH, SLASH, { folderTypes: kolabTypes });
    expect(plan.folders).toHaveLength(kolabSource.length);
    expect(plan.groupware).toBeUndefined();
    expect(plan.notices).toEqual([]);
  });

  it('knows Zimbra folders by their top-level names, with everything below them', () => {
    const source = [folder('INBOX'), folder('Calendar'), folder('Calendar/Holidays'), folder('Emailed Contacts'), folder('Tasks'), folder('Projects'), folder('Projects/Calendar'), folder('INBOX/Contacts')];
    const found = groupwareCandidates(source, SLASH, { kind: 'zimbra' });
    expect(Object.fromEntries([...found].map(([path, c]) => [path, c.type]))).toEqual({ Calendar: 'event', 'Calendar/Holidays': 'event', 'Emailed Contacts': 'contact', Tasks: 'task' });
    const plan = buildFolderPlan(source, [], SLASH, SLASH, { groupwareFolders: { kind: 'zimbra' } });
    expect(plan.folders.map((f) => f.sourcePath)).toEqual(['INBOX', 'Projects', 'Projects/Calendar', 'INBOX/Contacts']);
    expect(plan.notices!.map((n) => n.text)).toContain('"Calendar" is not copied as mail: it holds calendar events (a Zimbra folder of calendar events), moved as groupware.');
  });

  it("knows Exchange's localized names, below a Courier-style prefix too", () => {
    const source = [folder('INBOX', [], { delimiter: '.' }), folder('INBOX.Kalender', [], { delimiter: '.' }), folder('INBOX.Kontakte', [], { delimiter: '.' }), folder('INBOX.Notizen', [], { delimiter: '.' }), folder('INBOX.Journal', [], { delimiter: '.' }), folder('INBOX.Rechnungen', [], { delimiter: '.' })];
    const plan = buildFolderPlan(source, [], COURIER, SLASH, { groupwareFolders: { kind: 'exchange' } });
    expect(plan.folders.map((f) => f.sourcePath)).toEqual(['INBOX', 'INBOX.Rechnungen']);
    expect(Object.fromEntries(plan.groupware!.map((g) => [g.sourcePath, `${g.type} ${g.treatment} ${g.by}`]))).toEqual({
      'INBOX.Kalender': 'event moved name',
      'INBOX.Kontakte': 'contact moved name',
      'INBOX.Notizen': 'note skipped name',
      'INBOX.Journal': 'journal skipped name',
    });
  });

  it('copies a folder with a groupware name that holds messages: over IMAP that is mail', () => {
    const source = [folder('INBOX'), folder('Notes'), folder('Calendar')];
    const plan = buildFolderPlan(source, [], SLASH, SLASH, { groupwareFolders: { kind: 'exchange' }, messageCounts: new Map([['Notes', 4], ['Calendar', 0]]) });
    expect(plan.folders.map((f) => f.sourcePath)).toEqual(['INBOX', 'Notes']);
    expect(plan.notices!.map((n) => n.text)).toEqual([
      '"Notes" is copied as mail: on Exchange a folder of this name holds notes, but this one holds messages.',
      '"Calendar" is not copied as mail: it holds calendar events (an Exchange folder of calendar events), moved as groupware.',
    ]);
  });

  it('never takes INBOX or another user\'s folders for groupware', () => {
    const ns: FolderNamespace = { delimiter: '/', prefix: '', otherPrefixes: ['Other Users/'] };
    const source = [folder('INBOX'), folder('Other Users/bob/Calendar')];
    expect(groupwareCandidates(source, ns, { kind: 'kolab' }, new Map([['INBOX', 'event'], ['Other Users/bob/Calendar', 'event']])).size).toBe(0);
    expect(groupwareCandidates([folder('Other Users/Calendar')], ns, { kind: 'zimbra' }).size).toBe(0);
  });

  function client(folders: ListedFolder[], folderTypes?: (paths: readonly string[]) => Promise<ReadonlyMap<string, string>>): FolderClient {
    return {
      list: async () => folders,
      mailboxCreate: async () => ({ created: true }),
      mailboxSubscribe: async () => true,
      mailboxUnsubscribe: async () => true,
      ...(folderTypes ? { folderTypes } : {}),
    };
  }

  it('planFolders asks the folder types only for Kolab, and counts only folders known by name', async () => {
    const asked: string[][] = [];
    const counted: string[][] = [];
    const source = client(kolabSource, async (paths) => {
      asked.push([...paths]);
      return kolabTypes;
    });
    const countMessages = async (paths: string[]) => {
      counted.push(paths);
      return new Map(paths.map((p) => [p, 2]));
    };
    const plan = await planFolders(source, client([folder('INBOX')]), { countMessages, groupwareFolders: { kind: 'kolab' } });
    expect(asked).toEqual([kolabSource.filter((f) => f.path !== 'INBOX').map((f) => f.path)]);
    expect(counted).toEqual([]);
    expect(plan.groupware).toHaveLength(6);
    expect(plan.notices![0]!.text).toBe('"Calendar" is not copied as mail: it holds calendar events (Kolab folder type "event.default"), moved as groupware.');

    // By name, each candidate is counted: Zimbra's Calendar and Contacts show up empty over IMAP.
    const zimbra = await planFolders(source, client([folder('INBOX')]), { countMessages, groupwareFolders: { kind: 'zimbra' } });
    expect(counted).toEqual([['Calendar', 'Calendar/Team', 'Contacts', 'Tasks', 'Notes']]);
    expect(zimbra.folders.map((f) => f.sourcePath)).toContain('Calendar');
    await planFolders(source, client([folder('INBOX')]), { countMessages });
    expect(asked).toHaveLength(1);
    expect(counted).toHaveLength(1);
  });

  it('planFolders copies everything as mail, and says so, where the connection cannot read Kolab folder types', async () => {
    const plan = await planFolders(client(kolabSource), client([folder('INBOX')]), { groupwareFolders: { kind: 'kolab' } });
    expect(plan.folders).toHaveLength(kolabSource.length);
    expect(plan.notices).toEqual([{ folder: null, text: "The source's Kolab folder types could not be read on this connection: every folder is copied as mail." }]);
  });
});
