import { createLogger, SecretMetrics } from '../../../lambda/shared/telemetry';

describe('Module: telemetry', () => {
  let written: string;

  beforeEach(() => {
    written = '';
    const capture = (chunk: unknown): boolean => {
      written += String(chunk);
      return true;
    };
    jest.spyOn(process.stdout, 'write').mockImplementation(capture);
    jest.spyOn(process.stderr, 'write').mockImplementation(capture);
  });

  afterEach(() => {
    jest.restoreAllMocks();
    delete process.env.ROTOR_STAGE;
  });

  const records = (): Record<string, unknown>[] =>
    written
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  describe('Class: SecretMetrics', () => {
    it('writes one EMF record per publish, in the Rotor namespace with only the SecretName dimension', () => {
      // Prepare
      const metrics = new SecretMetrics('rotor-test');

      // Act
      metrics.publish('rotor/dev/a', { RotationFailed: 1 }, { RotationStepLatency: 42 });
      metrics.publish('rotor/dev/b', { RotationSucceeded: 1 });

      // Assess
      const [first, second] = records();
      expect(records()).toHaveLength(2);
      expect(first).toMatchObject({
        _aws: {
          CloudWatchMetrics: [
            {
              Namespace: 'Rotor',
              Dimensions: [['SecretName']],
              Metrics: [
                { Name: 'RotationFailed', Unit: 'Count' },
                { Name: 'RotationStepLatency', Unit: 'Milliseconds' },
              ],
            },
          ],
        },
        SecretName: 'rotor/dev/a',
        RotationFailed: 1,
        RotationStepLatency: 42,
      });
      expect(first).not.toHaveProperty('service');
      // Nothing of the first record carries over into the second.
      expect(second).toMatchObject({ SecretName: 'rotor/dev/b', RotationSucceeded: 1 });
      expect(second).not.toHaveProperty('RotationFailed');
      expect(second).not.toHaveProperty('RotationStepLatency');
      expect(second).not.toHaveProperty('service');
    });
  });

  describe('Function: createLogger', () => {
    it('adds the deployment stage from ROTOR_STAGE to every line', () => {
      // Prepare
      process.env.ROTOR_STAGE = 'staging';
      const logger = createLogger('rotor-test');

      // Act
      logger.info('hello');
      logger.info('again');

      // Assess
      expect(records()).toEqual([
        expect.objectContaining({ message: 'hello', service: 'rotor-test', stage: 'staging' }) as unknown,
        expect.objectContaining({ message: 'again', service: 'rotor-test', stage: 'staging' }) as unknown,
      ]);
    });

    it('adds no stage key when ROTOR_STAGE is not set', () => {
      // Prepare
      const logger = createLogger('rotor-test');

      // Act
      logger.info('hello');

      // Assess
      expect(records()[0]).not.toHaveProperty('stage');
    });
  });
});
