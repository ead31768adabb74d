import { LambdaBundle } from '../../lambda/shared/rotor-constants';

// On AWS each function calls with its own role's credentials. Locally every bundle gets a
// distinct placeholder access key id, so that a proxy in front of the emulator can tell which
// function sent a request (the id is in every SigV4 `Authorization` header) and check it against
// that function's role. The emulator itself accepts any key.
const ACCESS_KEY_PREFIX = 'rotor-local-fn-';

/** The placeholder access key id the bundle `bundle` signs its local requests with. */
export function functionAccessKeyId(bundle: LambdaBundle): string {
  return `${ACCESS_KEY_PREFIX}${bundle}`;
}

/** The bundle that signs with `accessKeyId`, or undefined for any other caller (an operator, a test). */
export function bundleOfAccessKeyId(accessKeyId: string): LambdaBundle | undefined {
  if (!accessKeyId.startsWith(ACCESS_KEY_PREFIX)) return undefined;
  const name = accessKeyId.slice(ACCESS_KEY_PREFIX.length);
  return (Object.values(LambdaBundle) as string[]).includes(name) ? (name as LambdaBundle) : undefined;
}

/** The access key id of a SigV4 `Authorization` header (`... Credential=<id>/<date>/...`). */
export function accessKeyIdOf(authorization: string | undefined): string | undefined {
  return /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
}
