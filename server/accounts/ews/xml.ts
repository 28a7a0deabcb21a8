import { DOMParser } from 'ews-javascript-api';

export const NS = {
  soap: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  ewsTypes: 'http://schemas.microsoft.com/exchange/services/2006/types',
  ewsErrors: 'http://schemas.microsoft.com/exchange/services/2006/errors',
  autodiscoverSoap: 'http://schemas.microsoft.com/exchange/2010/Autodiscover',
  poxRequest: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006',
  poxResponse: 'http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006',
  poxOutlookResponse: 'http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a',
} as const;

type XmlDomParser = new (options: {
  errorHandler: { warning(message: string): void; error(message: string): void; fatalError(message: string): void };
}) => { parseFromString(text: string, mimeType: string): Document | undefined };

/**
 * Parses with the xmldom that ews-javascript-api ships (and exports), so no second XML parser
 * is needed. xmldom is lenient: it reports broken markup as "error" and keeps going, and
 * returns a document without root for text that is no XML at all; both count as unparsable.
 */
export function parseXml(text: string): Document | undefined {
  let broken = false;
  const Parser = DOMParser as XmlDomParser;
  try {
    const document = new Parser({
      errorHandler: {
        warning() {},
        error() {
          broken = true;
        },
        fatalError() {
          broken = true;
        },
      },
    }).parseFromString(text, 'text/xml');
    return !broken && document?.documentElement ? document : undefined;
  } catch {
    return undefined;
  }
}

export function elements(node: Document | Element, namespace: string, localName: string): Element[] {
  return Array.from(node.getElementsByTagNameNS(namespace, localName));
}

/** Trimmed text of the first descendant `namespace|localName`, or undefined. */
export function textOf(node: Document | Element, namespace: string, localName: string): string | undefined {
  const text = elements(node, namespace, localName)[0]?.textContent?.trim();
  return text ? text : undefined;
}

/** Direct children with the given name; `namespace` null matches any namespace. */
export function childElements(parent: Element, namespace: string | null, localName: string): Element[] {
  const result: Element[] = [];
  for (let child = parent.firstChild; child; child = child.nextSibling) {
    if (child.nodeType !== 1) continue;
    const element = child as Element;
    if (element.localName === localName && (namespace === null || element.namespaceURI === namespace)) result.push(element);
  }
  return result;
}

/** A value for an XML attribute or text in a SOAP request written as text: the five special characters as character references. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
