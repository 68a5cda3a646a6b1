import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connect } from './api/connect';
import { ClientProvider, ErrorProvider } from './api/client-context';
import { App, FatalMessage } from './App';
import './styles.css';

const connection = connect();
createRoot(document.getElementById('root')!).render(
  <StrictMode>
    {'client' in connection ? (
      <ClientProvider client={connection.client}>
        <ErrorProvider>
          <App />
        </ErrorProvider>
      </ClientProvider>
    ) : (
      <FatalMessage message={connection.problem} />
    )}
  </StrictMode>,
);
