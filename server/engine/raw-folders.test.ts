import { describe, expect, it } from 'vitest';
import { FolderListUnreadable, parseListLine, parseNamespaceLine } from './raw-folders';

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
