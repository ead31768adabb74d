import { Aws } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/**
 * Read access of one function role to the client certificate secrets of OAuth 2.0 secrets (mutual
 * TLS to the IdP): `secretsmanager:GetSecretValue` on `<name>-??????` only, and only with a
 * `VersionStage` of `AWSCURRENT`, in one statement for all names. The rotation function presents
 * the certificate when it refreshes; the health-check and rollback functions when they test an
 * access token (introspection or the test URL use the same TLS settings). The role decrypts only
 * with the stage's key through Secrets Manager, so the certificate secret must be encrypted with it.
 */
export class ClientCertificateAccess {
  private grant?: iam.Grant;
  private readonly names = new Set<string>();

  constructor(
    private readonly role: iam.IRole,
    private readonly secretNamePrefix: string,
    /** Names the function in error messages, e.g. `RotationFunction`. */
    private readonly owner: string,
  ) {}

  /**
   * @returns the grant (the same one for every name); granting a name twice adds nothing.
   * @throws Error if the name is not under the stage's secret name prefix, or has a wildcard.
   */
  grantRead(secretName: string): iam.Grant {
    if (!secretName.startsWith(this.secretNamePrefix) || secretName.length === this.secretNamePrefix.length) {
      throw new Error(
        `${this.owner} client certificate secret must be named under the prefix "${this.secretNamePrefix}", got "${secretName}"`,
      );
    }
    if (/[*?]/.test(secretName)) {
      throw new Error(`${this.owner} client certificate secret name must not contain * or ?, got "${secretName}"`);
    }
    const arn = clientCertificateSecretArnPattern(secretName);
    const statement = this.grant?.principalStatements[0];
    if (this.grant !== undefined && statement !== undefined) {
      if (!this.names.has(secretName)) statement.addResources(arn);
      this.names.add(secretName);
      return this.grant;
    }
    this.names.add(secretName);
    this.grant = iam.Grant.addToPrincipal({
      grantee: this.role,
      actions: ['secretsmanager:GetSecretValue'],
      resourceArns: [arn],
      conditions: { StringEquals: { 'secretsmanager:VersionStage': 'AWSCURRENT' } },
    });
    return this.grant;
  }
}

/**
 * The ARN pattern of the secret named `secretName` in the stack's account and region:
 * `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-??????`. Secrets Manager ends
 * every secret's ARN with `-` and six random characters, so this matches that one secret and no
 * secret whose name merely starts with the same text.
 */
export function clientCertificateSecretArnPattern(secretName: string): string {
  return `arn:${Aws.PARTITION}:secretsmanager:${Aws.REGION}:${Aws.ACCOUNT_ID}:secret:${secretName}-??????`;
}
