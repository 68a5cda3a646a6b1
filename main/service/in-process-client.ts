/**
 * The contract's typed Client over a Service in this process, for the CLI: a call goes to
 * service.call (which validates the input like at every door), `on` listens to one event.
 * Nothing here draws images, so it has no media URLs.
 */
import { ApiError } from '../contract/contract';
import type { Client } from '../contract/client';
import type { Service } from './service';

export function inProcessClient(service: Service): Client {
  return {
    call: (name, input) => service.call(name, input),
    on: (event, listener) =>
      service.onEvent((name, payload) => {
        if (name === event) listener(payload as never);
      }),
    mediaUrl: () => {
      throw new ApiError('internal', 'an in-process client has no media URLs: images are served by the HTTP and Electron doors');
    },
  };
}
