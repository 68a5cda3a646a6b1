/**
 * The worker side of the channel to the service (see process-launcher.ts): process.parentPort when
 * Electron's utilityProcess started this process, process.send when child_process.fork did.
 */
interface ParentPort {
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
  postMessage(message: unknown): void;
}

const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;

export const workerChannel = {
  /** Resolves once the message is handed over (or at once when nobody listens any more). */
  send(message: unknown): Promise<void> {
    if (parentPort) {
      parentPort.postMessage(message);
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      if (!process.send || !process.connected) return resolve();
      process.send(message, undefined, {}, () => resolve());
    });
  },
  onMessage(listener: (message: unknown) => void): void {
    if (parentPort) parentPort.on('message', (event) => listener(event.data));
    else process.on('message', listener);
  },
};
