// Secrets Manager appends a hyphen and six random characters to the name in a secret's ARN.
const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/;

/** The secret's name, from its name or full ARN: the value of Rotor's SecretName metric dimension. */
export function secretNameFromId(secretId: string): string {
  return SECRET_ARN.exec(secretId)?.[1] ?? secretId;
}
