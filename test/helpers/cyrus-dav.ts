import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/*
 * The CalDAV/CardDAV side of test/helpers/cyrus.ts: Cyrus's httpd with implicit scheduling
 * (RFC 6638) on, and a `sendmail` that keeps every iMIP message Cyrus hands it.
 */

/** The domain Cyrus is responsible for (calendar_user_address_set): attendees there are local. */
export const CYRUS_DAV_DOMAIN = 'example.org';

/** One message Cyrus asked `sendmail` to send (an iMIP invitation, update or cancellation). */
export interface SentMail {
  /** MAIL FROM and RCPT TO as Cyrus gave them, without the angle brackets. */
  from: string;
  to: string[];
  /** Headers and body as Cyrus wrote them (dot-unstuffed, lines ending in \n). */
  raw: string;
}

export interface CyrusDav {
  /** `http://127.0.0.1:PORT/`; a user's calendars are at `${url}dav/calendars/user/NAME/`. */
  url: string;
  port: number;
  /** Every message handed to sendmail so far, oldest first. */
  sentMail(): Promise<SentMail[]>;
}

/**
 * Cyrus's smtpclient runs `sendmail -bs` and speaks SMTP on its stdin/stdout (imapd.conf:
 * smtp_backend). This one answers just enough of RFC 5321 4.5.1 and writes each message into
 * `outbox` as one file: envelope lines, a blank line, the message. Called any other way
 * (`sendmail -t` and friends) it keeps stdin as it is, so nothing is lost unseen.
 */
export function sendmailScript(outbox: string): string {
  if (/['\s]/.test(outbox)) throw new Error(`sendmail outbox may not contain quotes or spaces: ${outbox}`);
  return `#!/bin/bash
# Written by test/helpers/cyrus-dav.ts: records mail instead of sending it.
out='${outbox}'
name() { printf '%s/%s-%s' "$out" "$(date +%s%N)" "$$"; }
if [ "$1" != "-bs" ]; then
  file="$(name)"
  { printf 'X-Sendmail-Args: %s\\n\\n' "$*"; cat; } > "$file.tmp" && mv "$file.tmp" "$file.eml"
  exit 0
fi
from=""; to=""
printf '220 recorder ESMTP\\r\\n'
while IFS= read -r line; do
  line="\${line%$'\\r'}"
  case "\${line^^}" in
    EHLO*) printf '250-recorder\\r\\n250-8BITMIME\\r\\n250 SMTPUTF8\\r\\n' ;;
    HELO*) printf '250 recorder\\r\\n' ;;
    "MAIL FROM:"*) from="\${line:10}"; to=""; printf '250 2.1.0 OK\\r\\n' ;;
    "RCPT TO:"*) to="$to \${line:8}"; printf '250 2.1.5 OK\\r\\n' ;;
    DATA)
      printf '354 end with .\\r\\n'
      file="$(name)"
      {
        printf 'X-Envelope-From: %s\\nX-Envelope-To:%s\\n\\n' "$from" "$to"
        while IFS= read -r data; do
          data="\${data%$'\\r'}"
          [ "$data" = "." ] && break
          printf '%s\\n' "\${data#.}"
        done
      } > "$file.tmp" && mv "$file.tmp" "$file.eml"
      printf '250 2.0.0 kept\\r\\n' ;;
    RSET) from=""; to=""; printf '250 2.0.0 OK\\r\\n' ;;
    NOOP) printf '250 2.0.0 OK\\r\\n' ;;
    QUIT) printf '221 2.0.0 bye\\r\\n'; exit 0 ;;
    *) printf '502 5.5.1 not here\\r\\n' ;;
  esac
done
`;
}

/** Writes the script and its outbox below rootDir; returns the script's path and the outbox. */
export async function installSendmail(rootDir: string): Promise<{ sendmail: string; outbox: string }> {
  const outbox = path.join(rootDir, 'sent-mail');
  await mkdir(outbox, { recursive: true });
  await chmod(outbox, 0o777);
  const sendmail = path.join(rootDir, 'sendmail');
  await writeFile(sendmail, sendmailScript(outbox));
  await chmod(sendmail, 0o755);
  return { sendmail, outbox };
}

export async function readSentMail(outbox: string): Promise<SentMail[]> {
  const files = (await readdir(outbox)).filter((f) => f.endsWith('.eml')).sort();
  const mails: SentMail[] = [];
  for (const file of files) {
    const text = await readFile(path.join(outbox, file), 'utf8');
    const split = text.indexOf('\n\n');
    const envelope = text.slice(0, split);
    const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(envelope)?.[1]?.trim() ?? '';
    const bare = (address: string) => address.replace(/^<|>.*$/g, '').replace(/>$/, '');
    mails.push({
      from: bare(field('X-Envelope-From')),
      to: field('X-Envelope-To').split(/\s+/).filter(Boolean).map(bare),
      raw: text.slice(split + 2),
    });
  }
  return mails;
}

/** imapd.conf lines for httpd: CalDAV and CardDAV, scheduling on, iMIP through `sendmail`. */
export function davImapdConf(sendmail: string): string {
  return `
# CalDAV/CardDAV (httpd) with implicit scheduling (RFC 6638)
httpmodules: caldav carddav
calendar_user_address_set: ${CYRUS_DAV_DOMAIN}
caldav_allowscheduling: on
# Also events long over get invitations, so the test cannot pass because an event is old.
caldav_historical_age: -1
caldav_create_default: yes
caldav_create_sched: yes
caldav_create_attach: yes
smtp_backend: sendmail
sendmail: ${sendmail}
`;
}

/** Waits until httpd answers HTTP at all (any status). */
export async function waitForHttp(url: string, timeoutMs: number, exited: () => boolean): Promise<true | string> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (exited()) return 'the master exited';
    try {
      const response = await fetch(url, { method: 'OPTIONS', signal: AbortSignal.timeout(2_000) });
      await response.arrayBuffer();
      return true;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  return `no HTTP answer on ${url} within ${timeoutMs} ms (${last})`;
}

/**
 * Cyrus creates a user's calendar home (Default calendar, scheduling Inbox and Outbox) and
 * address book home on their first DAV request; until then a local attendee has no Inbox to
 * receive iTIP in. One PROPFIND as the user on each home does it.
 */
export async function createDavHomes(url: string, user: { username: string; password: string }): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
  for (const home of ['calendars', 'addressbooks']) {
    const target = `${url}dav/${home}/user/${encodeURIComponent(user.username.toLowerCase())}/`;
    const response = await fetch(target, { method: 'PROPFIND', headers: { authorization, depth: '0' } });
    const body = await response.text();
    if (response.status !== 207) throw new Error(`PROPFIND ${target} as ${user.username}: ${response.status} ${body.slice(0, 300)}`);
  }
}
