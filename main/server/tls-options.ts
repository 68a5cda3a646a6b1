/**
 * The certificate and key of an https server, read and checked before the server starts, so a
 * wrong file is reported by its name in words instead of as an OpenSSL error on the first request.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ApiError } from '../contract/contract';

export interface TlsFiles {
  /** PEM certificate (a chain may follow the server's certificate in the same file). */
  certFile: string;
  /** PEM private key, not encrypted (the server has nobody to ask for a passphrase). */
  keyFile: string;
}

export interface TlsCredentials {
  cert: Buffer;
  key: Buffer;
  /** The certificate's expiry, so the door can warn about it. */
  validTo: Date;
  /** DNS names and IP addresses the certificate is for (subjectAltName, else its CN). */
  names: string[];
}

export function readTlsCredentials(files: TlsFiles): TlsCredentials {
  const certPath = path.resolve(files.certFile);
  const keyPath = path.resolve(files.keyFile);
  const cert = readFileNamed(certPath, 'TLS certificate');
  const key = readFileNamed(keyPath, 'TLS key');

  if (!/-----BEGIN CERTIFICATE-----/.test(cert.toString('latin1'))) {
    throw new ApiError('invalid_input', `the TLS certificate ${certPath} is not a PEM certificate (no "-----BEGIN CERTIFICATE-----" block)`);
  }
  let certificate: crypto.X509Certificate;
  try {
    certificate = new crypto.X509Certificate(cert);
  } catch (err) {
    throw new ApiError('invalid_input', `the TLS certificate ${certPath} cannot be read as a certificate: ${(err as Error).message}`);
  }

  const keyText = key.toString('latin1');
  if (!/-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(keyText)) {
    const hint = /-----BEGIN CERTIFICATE-----/.test(keyText) ? ' (it holds a certificate: are --tls-cert and --tls-key swapped?)' : '';
    throw new ApiError('invalid_input', `the TLS key ${keyPath} is not a PEM private key (no "-----BEGIN PRIVATE KEY-----" block)${hint}`);
  }
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyText)) {
    throw new ApiError('invalid_input', `the TLS key ${keyPath} is encrypted with a passphrase; write an unencrypted copy (openssl pkey -in KEY -out KEY.plain) and keep it readable only by you`);
  }
  let privateKey: crypto.KeyObject;
  try {
    privateKey = crypto.createPrivateKey(key);
  } catch (err) {
    throw new ApiError('invalid_input', `the TLS key ${keyPath} cannot be read as a private key: ${(err as Error).message}`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ApiError('invalid_input', `the TLS key ${keyPath} does not belong to the certificate ${certPath} (their public keys differ)`);
  }
  return { cert, key, validTo: new Date(certificate.validTo), names: certificateNames(certificate) };
}

function readFileNamed(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ApiError('not_found', `the ${what} file ${file} does not exist`);
    if (code === 'EISDIR') throw new ApiError('invalid_input', `the ${what} ${file} is a folder, not a file`);
    if (code === 'EACCES' || code === 'EPERM') throw new ApiError('io_error', `the ${what} file ${file} cannot be read: permission denied`);
    throw new ApiError('io_error', `the ${what} file ${file} cannot be read: ${(err as Error).message}`);
  }
}

function certificateNames(certificate: crypto.X509Certificate): string[] {
  const alt = certificate.subjectAltName;
  if (alt) {
    return alt
      .split(/,\s*/)
      .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry)?.[1]?.toLowerCase())
      .filter((name): name is string => Boolean(name));
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
