import { describe, expect, it } from 'vitest';
import type { RawAnswer, RawImapConnection } from './raw-imap';
import { FolderListUnreadable, parseAnnotationLine, parseListLine, parseMetadataLine, parseNamespaceLine, RawFolderSession } from './raw-folders';

describe('parseListLine', () => {
  it('reads attributes, delimiter and the name, quoted or not, in modified UTF-7', () => {
    expect(parseListLine('* LIST (\\HasNoChildren \\Sent \\Subscribed) "/" "Sent Items"')).toEqual({
      path: 'Sent Items',
      delimiter: '/',
      flags: new Set(['\\HasNoChildren', '\\Sent', '\\Subscribed']),
      subscribed: true,
    });
    expect(parseListLine('* LIST () "." inbox')).toMatchObject({ path: 'INBOX', delimiter: '.', subscribed: false });
    expect(parseListLine('* LIST (\\Noselect) NIL "Entw&APw-rfe/Gr&APYA3w-e \\"Co\\" \\\\ x"')).toMatchObject({ path: 'Entwürfe/Größe "Co" \\ x', delimiter: null });
    expect(parseListLine('* LSUB () "/" Archive/2023')).toMatchObject({ path: 'Archive/2023' });
    expect(parseListLine('* LIST (\\NonExistent \\HasChildren) "/" Projects')!.flags).toEqual(new Set(['\\NonExistent', '\\HasChildren', '\\Noselect']));
    expect(parseListLine('* OK done')).toBeNull();
  });

  it('reads a name sent as a literal from its bytes, or gives the folder up to imapflow without them', () => {
    expect(() => parseListLine('* LIST () "/" {12}')).toThrow(FolderListUnreadable);
    // Where the reader kept the literal's bytes, the name comes from them.
    expect(parseListLine('* LIST () "/" \u0000', [Buffer.from('Gr&APYA3w-'), Buffer.from('e')])).toMatchObject({ path: 'Größe' });
  });
});

describe('parseNamespaceLine', () => {
  it('reads personal, other users\' and shared namespaces', () => {
    expect(parseNamespaceLine('* NAMESPACE (("" "/")) NIL NIL')).toEqual({ personal: [{ prefix: '', delimiter: '/' }], other: [], shared: [] });
    expect(parseNamespaceLine('* NAMESPACE (("INBOX." ".")) (("user." ".")) (("shared." "." "X-PARAM" ("a" "b")))')).toEqual({
      personal: [{ prefix: 'INBOX.', delimiter: '.' }],
      other: [{ prefix: 'user.', delimiter: '.' }],
      shared: [{ prefix: 'shared.', delimiter: '.' }],
    });
    expect(parseNamespaceLine('* NAMESPACE (("" NIL)) NIL NIL')).toEqual({ personal: [{ prefix: '', delimiter: '' }], other: [], shared: [] });
    expect(parseNamespaceLine('* LIST () "/" INBOX')).toBeNull();
  });
});

describe('parseMetadataLine', () => {
  it('reads the folder and its entries, NIL and literal values included', () => {
    expect(parseMetadataLine('* METADATA "Calendar" (/shared/vendor/kolab/folder-type "event.default")')).toEqual({
      path: 'Calendar',
      entries: new Map([['/shared/vendor/kolab/folder-type', 'event.default']]),
    });
    expect(parseMetadataLine('* METADATA Kalender (/private/vendor/kolab/folder-type NIL /Shared/Vendor/Kolab/Folder-Type "task")')).toEqual({
      path: 'Kalender',
      entries: new Map([
        ['/private/vendor/kolab/folder-type', null],
        ['/shared/vendor/kolab/folder-type', 'task'],
      ]),
    });
    expect(parseMetadataLine('* METADATA "Entw&APw-rfe" (/shared/vendor/kolab/folder-type \u0000)', [Buffer.from('note')])).toEqual({
      path: 'Entwürfe',
      entries: new Map([['/shared/vendor/kolab/folder-type', 'note']]),
    });
    expect(parseMetadataLine('* METADATA \u0000 (/shared/vendor/kolab/folder-type "a \\"b\\"")', [Buffer.from('Say "hi"')])).toMatchObject({ path: 'Say "hi"' });
    expect(parseMetadataLine('* LIST () "/" INBOX')).toBeNull();
  });
});

describe('parseAnnotationLine', () => {
  it('reads the folder, the entry and its values', () => {
    expect(parseAnnotationLine('* ANNOTATION "Contacts" "/vendor/kolab/folder-type" ("value.shared" "contact.default" "value.priv" NIL)')).toEqual({
      path: 'Contacts',
      entry: '/vendor/kolab/folder-type',
      values: new Map([
        ['value.shared', 'contact.default'],
        ['value.priv', null],
      ]),
    });
    expect(parseAnnotationLine('* METADATA "x" (/a "b")')).toBeNull();
  });
});

describe('RawFolderSession.folderTypes', () => {
  function session(capabilities: string[], answer: (command: string) => RawAnswer) {
    const sent: string[] = [];
    const connection = {
      capabilities: new Set(capabilities),
      commands: async (texts: readonly string[]) => texts.map((text) => (sent.push(text), answer(text))),
      command: async (text: string) => (sent.push(text), answer(text)),
    } as unknown as RawImapConnection;
    const Session = RawFolderSession as unknown as new (connection: RawImapConnection) => RawFolderSession;
    return { folders: new Session(connection), sent };
  }
  const ok = (untagged: string[]): RawAnswer => ({ status: 'OK', text: 'done', untagged, literals: untagged.map(() => []) });

  it('asks each folder with GETMETADATA where the server has METADATA; the private type wins, refusals are left out', async () => {
    const { folders, sent } = session(['IMAP4REV1', 'METADATA'], (command) => {
      if (command.startsWith('GETMETADATA "Calendar"')) return ok(['* METADATA "Calendar" (/shared/vendor/kolab/folder-type "event")']);
      if (command.startsWith('GETMETADATA "Contacts"')) return ok(['* METADATA "Contacts" (/private/vendor/kolab/folder-type "contact.default" /shared/vendor/kolab/folder-type "contact")']);
      if (command.startsWith('GETMETADATA "Gone"')) return { status: 'NO', text: '[NONEXISTENT] no', untagged: [], literals: [] };
      return ok([]);
    });
    expect(await folders.folderTypes(['Calendar', 'Contacts', 'Work', 'Gone'])).toEqual(new Map([['Calendar', 'event'], ['Contacts', 'contact.default']]));
    expect(sent[0]).toBe('GETMETADATA "Calendar" (/private/vendor/kolab/folder-type /shared/vendor/kolab/folder-type)');
    expect(sent).toHaveLength(4);
  });

  it('asks once with GETANNOTATION where the server has only ANNOTATEMORE, and nothing without either', async () => {
    const { folders, sent } = session(['IMAP4REV1', 'ANNOTATEMORE'], () =>
      ok([
        '* ANNOTATION "Calendar" "/vendor/kolab/folder-type" ("value.shared" "event.default")',
        '* ANNOTATION "Notes" "/vendor/kolab/folder-type" ("value.priv" "note" "value.shared" "mail")',
        '* ANNOTATION "Other Users/bob/Calendar" "/vendor/kolab/folder-type" ("value.shared" "event")',
      ]),
    );
    expect(await folders.folderTypes(['Calendar', 'Notes', 'Work'])).toEqual(new Map([['Calendar', 'event.default'], ['Notes', 'note']]));
    expect(sent).toEqual(['GETANNOTATION "*" "/vendor/kolab/folder-type" ("value.priv" "value.shared")']);

    const plain = session(['IMAP4REV1'], () => ok([]));
    expect(await plain.folders.folderTypes(['Calendar'])).toEqual(new Map());
    expect(plain.sent).toEqual([]);
  });
});
