import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface SystemMailOwner {
  uid: number;
  gid: number;
  /** Names, for config files that want them (Cyrus's cyrus_user and cyrus_group). */
  user: string;
  group: string;
}

/**
 * Who owns the mail of the Cyrus and Courier test servers: `nobody` as root (it exists
 * everywhere and needs no useradd, which would change the machine and race between parallel
 * workers), else the current user.
 */
export async function systemMailOwner(): Promise<SystemMailOwner> {
  const table = async (file: string) =>
    (await readFile(file, 'utf8').catch(() => '')).split('\n').map((line) => line.split(':'));
  const groups = await table('/etc/group');
  const groupName = (gid: number) => groups.find((fields) => fields[2] === String(gid))?.[0];
  if (process.getuid?.() !== 0) {
    const me = os.userInfo();
    return { uid: me.uid, gid: me.gid, user: me.username, group: groupName(me.gid) ?? String(me.gid) };
  }
  const nobody = (await table('/etc/passwd')).find((fields) => fields[0] === 'nobody');
  const uid = Number(nobody?.[2] ?? 65534);
  const gid = Number(nobody?.[3] ?? 65534);
  const group = groupName(gid);
  if (!group) throw new Error(`no name for group ${gid} (of user nobody) in /etc/group`);
  return { uid, gid, user: 'nobody', group };
}
