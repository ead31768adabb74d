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

  describe('Method: publishUnattributed', () => {
    it('writes one EMF record in the Rotor namespace without any dimension', () => {
      // Prepare
      const metrics = new SecretMetrics('rotor-test');

      // Act
      metrics.publishUnattributed({ UnknownToken: 1 });

      // Assess
      expect(records()).toEqual([
        {
          _aws: {
            Timestamp: expect.any(Number) as unknown,
            CloudWatchMetrics: [
              { Namespace: 'Rotor', Dimensions: [], Metrics: [{ Name: 'UnknownToken', Unit: 'Count' }] },
            ],
          },
          UnknownToken: 1,
        },
      ]);
    });

    it('does not take the dimension of a record published before it, nor give one to the next', () => {
      // Prepare
      const metrics = new SecretMetrics('rotor-test');

      // Act
      metrics.publish('rotor/dev/a', { GraceUse: 1 });
      metrics.publishUnattributed({ UnknownToken: 1 });
      metrics.publish('rotor/dev/b', { ReuseDetected: 1 });

      // Assess
      const [first, unattributed, last] = records();
      expect(first).toMatchObject({ SecretName: 'rotor/dev/a', GraceUse: 1 });
      expect(unattributed).not.toHaveProperty('SecretName');
      expect(unattributed).not.toHaveProperty('GraceUse');
      expect(unattributed).toMatchObject({ _aws: { CloudWatchMetrics: [{ Dimensions: [] }] } });
      expect(last).toMatchObject({ SecretName: 'rotor/dev/b', ReuseDetected: 1 });
      expect(last).not.toHaveProperty('UnknownToken');
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
