// `node --import` this file: the process's HTTP servers see the client as forwarded-for.mjs says.
import { DEFAULT_TRUSTED_PROXIES, installClientAddress, parseTrustedProxies } from './forwarded-for.mjs';

installClientAddress(parseTrustedProxies(process.env.MAILFERRY_TRUSTED_PROXIES?.trim() || DEFAULT_TRUSTED_PROXIES));
