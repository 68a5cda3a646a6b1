/**
 * Picks the transport for the door the UI was opened through: the Electron preload bridge when it
 * exists, otherwise browser mode over HTTP with the token from the URL.
 */
import { createClient, type Client } from '../../../main/contract/client';
import { createHttpTransport, readToken } from './http-transport';

export type Connection = { client: Client } | { problem: string };

export function connect(): Connection {
  if (window.effitune) return { client: createClient(window.effitune) };
  const token = readToken();
  if (!token) {
    return { problem: 'This page needs its access token. Open the full URL that `effitune serve` (or `npm start`) printed, including ?token=…' };
  }
  return { client: createClient(createHttpTransport(token)) };
}
