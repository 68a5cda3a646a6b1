/** React access to the contract client and to the error toasts every failed call ends up in. */
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import type { Client } from '../../../main/contract/client';
import type { EventName, EventPayload } from '../../../main/contract/contract';

const ClientContext = createContext<Client | null>(null);

export function ClientProvider({ client, children }: { client: Client; children: ReactNode }) {
  return <ClientContext.Provider value={client}>{children}</ClientContext.Provider>;
}

export function useClient(): Client {
  const client = useContext(ClientContext);
  if (!client) throw new Error('useClient used outside <ClientProvider>');
  return client;
}

/** Subscribe to a contract event for the lifetime of the component; the latest listener is always used. */
export function useEvent<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): void {
  const client = useClient();
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => client.on(event, (payload) => latest.current(payload)), [client, event]);
}

// ---------- errors shown in words ----------

export interface Toast {
  id: number;
  message: string;
  code?: string;
}

const ErrorContext = createContext<(err: unknown, context?: string) => void>(() => {});

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function ErrorProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const nextId = useRef(1);
  const report = useCallback((err: unknown, context?: string) => {
    const message = context ? `${context}: ${errorMessage(err)}` : errorMessage(err);
    const code = (err as { code?: string })?.code;
    console.error(message, err);
    setToasts((list) => [...list.slice(-4), { id: nextId.current++, message, code }]);
  }, []);
  const dismiss = (id: number) => setToasts((list) => list.filter((t) => t.id !== id));
  return (
    <ErrorContext.Provider value={report}>
      {children}
      <div className="toasts" role="alert" aria-live="assertive">
        {toasts.map((t) => (
          <div key={t.id} className="toast" data-testid="error-toast">
            <span className="toast-message">{t.message}</span>
            <button className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </ErrorContext.Provider>
  );
}

/** The function that puts an error in front of the user; use it in every catch. */
export function useReportError() {
  return useContext(ErrorContext);
}
