/**
 * Where the server listens and which names it answers to. Loopback (127.0.0.1, the default) is
 * reachable only from this machine; any other address (a LAN address, 0.0.0.0 for every
 * interface, a host name) puts the app on the network, which the server allows only over TLS or
 * when the user says --insecure-lan (server.ts).
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { ApiError } from '../contract/contract';

export interface ListenAddress {
  /** What server.listen() gets: an IP address or a host name, IPv6 without brackets. */
  host: string;
  /** True when every address it stands for is loopback (127.0.0.0/8, ::1): nothing outside this machine can connect. */
  loopback: boolean;
  /** True for 0.0.0.0 / :: (every interface). */
  wildcard: boolean;
  /**
   * Host names (lower case, IPv6 in brackets) the Host and Origin checks accept besides the loopback
   * names: the name or address given, or for a wildcard every address of this machine and its host name.
   */
  names: string[];
  /** The host part of the printed URL (IPv6 in brackets). */
  urlHost: string;
}

/** Host names a name that is not an IP may use (RFC 1123 letters, digits, hyphens, dots). */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export function isLoopbackIp(address: string): boolean {
  if (net.isIPv4(address)) return address.startsWith('127.');
  const lower = address.toLowerCase();
  return lower === '::1' || /^::ffff:127\./.test(lower);
}

/** An address as it appears in a Host header or URL: IPv6 in brackets, names in lower case. */
export function hostForUrl(address: string): string {
  return net.isIPv6(address) ? `[${address.toLowerCase()}]` : address.toLowerCase();
}

export async function resolveListenAddress(input: string): Promise<ListenAddress> {
  const given = input.trim().replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(given)) {
    if (given === '0.0.0.0' || given === '::') return wildcardAddress(given);
    return { host: given, loopback: isLoopbackIp(given), wildcard: false, names: [hostForUrl(given)], urlHost: hostForUrl(given) };
  }
  if (!HOST_NAME.test(given)) {
    throw new ApiError('invalid_input', `--host must be an IP address or a host name, got "${input}"`);
  }
  const name = given.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost') return { host: 'localhost', loopback: true, wildcard: false, names: [], urlHost: 'localhost' };
  let addresses: string[];
  try {
    addresses = (await dns.lookup(name, { all: true })).map((a) => a.address);
  } catch (err) {
    throw new ApiError('not_found', `--host ${input}: the name does not resolve to an address of this machine (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return {
    host: name,
    loopback: addresses.length > 0 && addresses.every(isLoopbackIp),
    wildcard: false,
    names: [name, ...addresses.map(hostForUrl)],
    urlHost: name,
  };
}

/**
 * Every interface: a browser may reach it by any of this machine's addresses or by its host name.
 * Link-local IPv6 addresses are left out: in a URL they need a zone (%eth0) browsers do not send back.
 */
function wildcardAddress(host: string): ListenAddress {
  const interfaces = Object.values(os.networkInterfaces()).flatMap((list) => list ?? []);
  const usable = interfaces.filter((i) => !(i.family === 'IPv6' && i.address.toLowerCase().startsWith('fe80:')));
  const external = usable.filter((i) => !i.internal);
  const hostname = os.hostname().toLowerCase();
  const names = [...new Set([...usable.map((i) => hostForUrl(i.address)), ...(HOST_NAME.test(hostname) ? [hostname] : [])])];
  const firstIpv4 = external.find((i) => i.family === 'IPv4');
  return { host, loopback: false, wildcard: true, names, urlHost: firstIpv4 ? firstIpv4.address : hostname };
}
