import fs from 'node:fs/promises';

export interface AccountUrl {
  /** imaps, imap, https or http. */
  scheme: string;
  /** host[:port] */
  host: string;
  user: string;
  /** From the password file, else the environment, else the URL; undefined when none gives one. */
  password: string | undefined;
  /** The URL without its credentials. */
  bare: URL;
}

/**
 * `imaps://user%40example.com:pass@mail.example.com[:port]` (a bare host means imaps://), with
 * the password preferably from a file or the environment, so it stays out of shell history.
 */
export async function readAccountUrl(text: string, passwordFile: string | undefined, passwordEnv: string | undefined): Promise<AccountUrl> {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `imaps://${text}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`Cannot read the account URL: ${text}`);
  }
  const user = decodeURIComponent(url.username);
  let password = url.password ? decodeURIComponent(url.password) : undefined;
  if (passwordFile) password = (await fs.readFile(passwordFile, 'utf8')).replace(/\r?\n$/, '');
  else if (passwordEnv !== undefined) password = passwordEnv;
  url.username = '';
  url.password = '';
  return { scheme: url.protocol.slice(0, -1), host: url.host, user, password, bare: url };
}
