import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Tests run the artifact `cdk deploy` ships: build the bundles once before any test file.
 * Set ROTOR_SKIP_BUILD=1 when dist/ is known to be fresh (the bench and CI build just before).
 */
export default function globalSetup(): void {
  if (process.env.ROTOR_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'build.mjs')], { stdio: 'inherit' });
}
