import { DOMParser } from 'ews-javascript-api';

/** XML plumbing of the EWS test server: the xmldom that ews-javascript-api ships, strict parsing, and a renderer with fixed prefixes. */

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  messages: 'http://schemas.microsoft.com/exchange/services/2006/messages',
  types: 'http://schemas.microsoft.com/exchange/services/2006/types',
  errors: 'http://schemas.microsoft.com/exchange/services/2006/errors',
  autodiscover: 'http://schemas.microsoft.com/exchange/2010/Autodiscover',
  addressing: 'http://www.w3.org/2005/08/addressing',
  poxRequest: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006',
  poxResponse: 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
  poxOutlook: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
} as const;

type XmlDomParser = new (options: { errorHandler: Record<'warning' | 'error' | 'fatalError', (message: string) => void> }) => {
  parseFromString(text: string, mimeType: string): Document | undefined;
};

export function parseXml(text: string): Document | undefined {
  let broken = false;
  const flag = () => {
    broken = true;
  };
  try {
    const document = new (DOMParser as XmlDomParser)({ errorHandler: { warning: () => {}, error: flag, fatalError: flag } }).parseFromString(text, 'text/xml');
    return !broken && document?.documentElement ? document : undefined;
  } catch {
    return undefined;
  }
}

/** An attribute's value, or null when absent (xmldom's getAttribute answers '' for a missing one). */
export function attr(element: Element, name: string): string | null {
  return element.hasAttribute(name) ? element.getAttribute(name) : null;
}

export function is(element: Element, namespace: string, localName: string): boolean {
  return element.namespaceURI === namespace && element.localName === localName;
}

export function children(parent: Element): Element[] {
  const result: Element[] = [];
  for (let node = parent.firstChild; node; node = node.nextSibling) if (node.nodeType === 1) result.push(node as Element);
  return result;
}

export function child(parent: Element, namespace: string, localName: string): Element | undefined {
  return children(parent).find((element) => is(element, namespace, localName));
}

/** A child in the types namespace. */
export function tChild(parent: Element | undefined, localName: string): Element | undefined {
  return parent ? child(parent, NS.types, localName) : undefined;
}

export function tText(parent: Element | undefined, localName: string): string | undefined {
  const value = tChild(parent, localName)?.textContent;
  return value === null || value === undefined ? undefined : value;
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[char] ?? char);
}

/** An element again as text, with t: / m: prefixes whatever the request used (the answer's envelope declares both). */
export function render(element: Element): string {
  const prefix = element.namespaceURI === NS.types ? 't:' : element.namespaceURI === NS.messages ? 'm:' : '';
  const name = `${prefix}${element.localName}`;
  let attributes = '';
  for (let i = 0; i < element.attributes.length; i++) {
    const attribute = element.attributes.item(i);
    if (!attribute || attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) continue;
    attributes += ` ${attribute.localName ?? attribute.name}="${escapeXml(attribute.value)}"`;
  }
  let inner = '';
  for (let node = element.firstChild; node; node = node.nextSibling) {
    if (node.nodeType === 1) inner += render(node as Element);
    else if (node.nodeType === 3 || node.nodeType === 4) inner += escapeXml(node.nodeValue ?? '');
  }
  return inner ? `<${name}${attributes}>${inner}</${name}>` : `<${name}${attributes}/>`;
}

/** A types-namespace element built from text (for values the server sets itself). */
export function tElement(localName: string, text?: string, attributes: Record<string, string> = {}, inner = ''): Element {
  const attrs = Object.entries(attributes).map(([key, value]) => ` ${key}="${escapeXml(value)}"`).join('');
  const document = parseXml(`<t:${localName} xmlns:t="${NS.types}"${attrs}>${text !== undefined ? escapeXml(text) : ''}${inner}</t:${localName}>`);
  if (!document) throw new Error(`cannot build t:${localName}`);
  return document.documentElement;
}
