import { DEFAULT_LOCAL_REGION, type LocalEndpoint } from '../local/local-clients';

import { UsageError } from './cli-errors';

export { UsageError };

export interface CommonOptions {
  readonly endpoint?: string | undefined;
  readonly region?: string | undefined;
}

/** The emulator endpoint a `--local` command talks to. */
export function requireLocalEndpoint(options: CommonOptions): LocalEndpoint {
  const endpoint = options.endpoint ?? process.env.AWS_ENDPOINT_URL;
  if (endpoint === undefined) {
    throw new UsageError('--local needs --endpoint URL (or AWS_ENDPOINT_URL): where the emulator listens');
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`--endpoint must be a URL such as http://127.0.0.1:4566, got "${endpoint}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--endpoint must be an http(s) URL, got "${endpoint}"`);
  }
  return { endpoint: url.origin, region: options.region ?? DEFAULT_LOCAL_REGION };
}

/** The stage to use from the config: `--stage`, or the first one configured. */
export function pickStage<S extends { readonly name: string }>(stages: readonly S[], name: string | undefined): S {
  const stage = name === undefined ? stages[0] : stages.find((candidate) => candidate.name === name);
  if (stage === undefined) {
    throw new UsageError(`no stage "${name}" in the config; configured: ${stages.map((s) => s.name).join(', ')}`);
  }
  return stage;
}
