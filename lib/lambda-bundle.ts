import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { LambdaBundle } from '../lambda/shared/rotor-constants';
import { packageRoot } from './package-root';

/** Repository root: above lib/, or above dist/cli/ when `rotor local` synthesizes a stage. */
const REPOSITORY_ROOT = packageRoot(__dirname);

/** The entry point every bundle exports: `npm run build` writes `index.js` exporting `handler`. */
export const LAMBDA_BUNDLE_HANDLER = 'index.handler';

/** Where `npm run build` writes a Lambda bundle: `<repo>/dist/lambda/<name>`. */
export function lambdaBundleDirectory(bundle: LambdaBundle): string {
  return join(REPOSITORY_ROOT, 'dist', 'lambda', bundle);
}

/** A Lambda bundle the stack deploys has not been built: the message names it and says to run `npm run build`. */
export class LambdaBundleMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LambdaBundleMissingError';
  }
}

/**
 * The built bundle in `directory` as Lambda code. The stack deploys exactly what `npm run build`
 * produced and the tests ran, so a missing bundle is an error rather than a reason to build here.
 *
 * @throws LambdaBundleMissingError naming the missing file and the command that builds it.
 */
export function lambdaBundleCode(directory: string): lambda.Code {
  const entry = join(directory, 'index.js');
  if (!existsSync(entry)) {
    const shown = relative(process.cwd(), entry) || entry;
    throw new LambdaBundleMissingError(`Lambda bundle ${shown} does not exist: run \`npm run build\` first`);
  }
  return lambda.Code.fromAsset(directory);
}
