import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod/mini';
import { MalformedSecretError, RotorConfigurationError } from '../core/errors';
import type { ClientCertificate, ClientCertificateSource } from '../core/providers/provider-http';
import { describeSchemaIssues } from '../core/schema-issues';
import { secretNameFromId } from '../shared/secret-name';

export interface SecretsManagerClientCertificatesOptions {
  readonly client: SecretsManagerClient;
  /** The stage's secret name prefix: a certificate secret must be under it, like the secrets it serves. */
  readonly secretNamePrefix: string;
  /** How long a loaded certificate is reused. @default 300 000 (5 minutes) */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

const CERTIFICATE_RULE = 'must be a PEM certificate (-----BEGIN CERTIFICATE-----)';
const PRIVATE_KEY_RULE = 'must be an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)';
const ClientCertificateSecretSchema = z.looseObject({
  certificate: z
    .string({ error: CERTIFICATE_RULE })
    .check(z.refine((pem) => pem.includes('-----BEGIN CERTIFICATE-----'), CERTIFICATE_RULE)),
  privateKey: z
    .string({ error: PRIVATE_KEY_RULE })
    .check(z.refine((pem) => /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(pem), PRIVATE_KEY_RULE)),
});

/**
 * {@link ClientCertificateSource} over Secrets Manager: the mTLS certificate of a provider call
 * lives in a secret of its own, `{"certificate": PEM, "privateKey": PEM}`, so that it can be
 * renewed without touching the credential secrets that use it.
 *
 * A secret document names its certificate secret, so the name is checked against the stage's
 * prefix before anything is read: a document cannot make the function read another stage's
 * secret, or any secret outside Rotor. (IAM is the boundary; this makes a wrong name a clear
 * error instead of an AccessDenied.) The certificate and key are checked to parse and to belong
 * together when loaded, so a bad secret fails here, naming the field, rather than as a TLS
 * handshake error at the provider. Errors never show a value.
 *
 * A loaded certificate is kept for `cacheTtlMs`, so that a renewal is picked up within that
 * time; a failed load is not kept.
 */
export class SecretsManagerClientCertificates implements ClientCertificateSource {
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private readonly loaded = new Map<
    string,
    { readonly certificate: Promise<ClientCertificate>; readonly at: number }
  >();

  constructor(private readonly options: SecretsManagerClientCertificatesOptions) {
    if (options.secretNamePrefix === '') {
      throw new RotorConfigurationError('client certificate secrets need a non-empty secret name prefix');
    }
    this.cacheTtlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
  }

  checkLocation(secretId: string): void {
    const name = secretNameFromId(secretId);
    if (!name.startsWith(this.options.secretNamePrefix)) {
      throw new MalformedSecretError(
        `client certificate secret ${name} is outside this stage's prefix ${this.options.secretNamePrefix}`,
      );
    }
  }

  load(secretId: string): Promise<ClientCertificate> {
    try {
      this.checkLocation(secretId);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const name = secretNameFromId(secretId);
    const cached = this.loaded.get(secretId);
    if (cached !== undefined && this.now() - cached.at < this.cacheTtlMs) return cached.certificate;
    const certificate = this.read(secretId, name);
    this.loaded.set(secretId, { certificate, at: this.now() });
    certificate.catch(() => {
      if (this.loaded.get(secretId)?.certificate === certificate) this.loaded.delete(secretId);
    });
    return certificate;
  }

  private async read(secretId: string, name: string): Promise<ClientCertificate> {
    const secret = await this.options.client.send(
      new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
    );
    const malformed = (reason: string) => new MalformedSecretError(`client certificate secret ${name} ${reason}`);
    if (secret.SecretString === undefined) throw malformed('holds no string value');
    let document: unknown;
    try {
      document = JSON.parse(secret.SecretString);
    } catch {
      // JSON.parse's message quotes the text around the error: never passed on.
      throw malformed('is not JSON');
    }
    const result = ClientCertificateSecretSchema.safeParse(document);
    if (!result.success) throw malformed(`is invalid: ${describeSchemaIssues(result.error.issues)}`);
    const { certificate: certificatePem, privateKey: privateKeyPem } = result.data;

    let certificate: X509Certificate;
    let privateKey: KeyObject;
    try {
      certificate = new X509Certificate(certificatePem);
    } catch {
      throw malformed(`is invalid: field 'certificate': ${CERTIFICATE_RULE}`);
    }
    try {
      privateKey = createPrivateKey(privateKeyPem);
    } catch {
      throw malformed(`is invalid: field 'privateKey': ${PRIVATE_KEY_RULE}`);
    }
    if (!certificate.checkPrivateKey(privateKey)) {
      throw malformed("is invalid: field 'privateKey': is not the key of field 'certificate'");
    }
    return { certificatePem, privateKeyPem };
  }
}
