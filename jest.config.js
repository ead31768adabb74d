/** Unit, infrastructure and integration tests share one runner; swc strips types (tsc --noEmit checks them). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  // A hang catcher, not a performance check: generous enough for a 2-core machine under heavy load
  // (a loaded machine stretches a synth or a rotation several times over); `npm run bench` measures speed.
  testTimeout: 300000,
  // Three workers on two cores: the integration files spend much of their time waiting on their
  // worker's emulator and the test servers, so a third file fills the idle CPU (measured: npm test
  // 4 min 36 s with two workers, 4 min 5 s with three, 4 min 14 s with four).
  maxWorkers: 3,
};
