/**
 * IMAP modified UTF-7 (RFC 3501 §5.1.3), the wire form of non-ASCII folder names on servers
 * without UTF8=ACCEPT (and the on-disk form in Dovecot's Maildir++ layout).
 */
export function encodeMutf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const utf16 = Buffer.alloc(pending.length * 2);
    pending.forEach((unit, i) => utf16.writeUInt16BE(unit, i * 2));
    out += `&${utf16.toString('base64').replace(/=+$/, '').replace(/\//g, ',')}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? '&-' : name[i];
    } else {
      // UTF-16 code units, so astral characters travel as their surrogate pair, as the RFC wants.
      pending.push(unit);
    }
  }
  flush();
  return out;
}

export function decodeMutf7(encoded: string): string {
  return encoded.replace(/&([^-]*)-/g, (_, chunk: string) => {
    if (chunk === '') return '&';
    const utf16 = Buffer.from(chunk.replace(/,/g, '/'), 'base64');
    let text = '';
    for (let i = 0; i + 1 < utf16.length; i += 2) text += String.fromCharCode(utf16.readUInt16BE(i));
    return text;
  });
}
