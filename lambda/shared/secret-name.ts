// Secrets Manager appends a hyphen and six random characters to the name in a secret's ARN.
const SECRET_ARN = /^arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+)-[A-Za-z0-9]{6}$/;

// Secrets Manager's rules for a secret's name: 1-512 ASCII letters, digits and /_+=.@-.
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;

// A full or partial secret ARN: partition, Region and account as AWS writes them, then a name
// and, in a full ARN, its 7-character suffix. At most about 610 characters in all.
const SECRET_ARN_SHAPE = /^arn:aws[a-z-]{0,16}:secretsmanager:[a-z0-9-]{1,32}:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,519}$/;

/** The longest `SecretId` Secrets Manager accepts (a name or an ARN). */
export const MAX_SECRET_ID_LENGTH = 2048;

/** The secret's name, from its name or full ARN: the value of Rotor's SecretName metric dimension. */
export function secretNameFromId(secretId: string): string {
  return SECRET_ARN.exec(secretId)?.[1] ?? secretId;
}

/** Whether `value` is a secret's name as Secrets Manager allows it (at most 512 characters). */
export function isSecretName(value: unknown): value is string {
  return typeof value === 'string' && SECRET_NAME.test(value);
}

/** Whether `value` is a full or partial Secrets Manager secret ARN. */
export function isSecretArn(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_SECRET_ID_LENGTH && SECRET_ARN_SHAPE.test(value);
}

/**
 * Whether `value` can name a secret: a secret name or a secret ARN. Whatever passes yields, through
 * {@link secretNameFromId}, a name of at most 512 characters: safe as a metric dimension value
 * (CloudWatch allows 1,024) and in a log line.
 */
export function isSecretId(value: unknown): value is string {
  return isSecretName(value) || isSecretArn(value);
}
