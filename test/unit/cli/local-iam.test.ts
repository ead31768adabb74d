import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { localIamEnforced, localIamSetting } from '../../../cli/local/local-iam';
import { packageRoot } from '../../../lib/package-root';

describe('Function: localIamEnforced', () => {
  it.each([
    [{}, true],
    [{ ROTOR_LOCAL_IAM: 'on' }, true],
    [{ ROTOR_LOCAL_IAM: '' }, true],
    [{ ROTOR_LOCAL_IAM: 'off' }, false],
    [{ ROTOR_LOCAL_IAM: ' OFF ' }, false],
  ])('reads %j as enforced=%s', (env, enforced) => {
    expect(localIamEnforced(env)).toBe(enforced);
  });

  it('states the setting and how to change it, for rotor local up', () => {
    expect(localIamSetting({})).toMatch(/^enforced: .*\(ROTOR_LOCAL_IAM=off turns it off\)$/);
    expect(localIamSetting({ ROTOR_LOCAL_IAM: 'off' })).toMatch(/^off \(ROTOR_LOCAL_IAM=off\): /);
  });
});

describe('Function: packageRoot', () => {
  it('finds the nearest package.json above a bundle at any depth (lib/, dist/cli/)', () => {
    // Prepare
    const root = mkdtempSync(join(tmpdir(), 'rotor-root-'));
    writeFileSync(join(root, 'package.json'), '{}');
    mkdirSync(join(root, 'dist', 'cli'), { recursive: true });
    mkdirSync(join(root, 'lib'));

    // Act / Assess
    expect(packageRoot(join(root, 'dist', 'cli'))).toBe(root);
    expect(packageRoot(join(root, 'lib'))).toBe(root);
  });
});
