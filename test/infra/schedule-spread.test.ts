import { parseRotationSchedule, rotationWindowProblem } from '../../lib/rotation-schedule';
import { spreadRefreshSchedule, spreadRotationSchedule } from '../../lib/schedule-spread';

const names = Array.from({ length: 400 }, (_, index) => `rotor/fleet/team-${index % 7}/pipeline-${index}`);

/** The UTC hours at which `expression`'s windows open, checked against Secrets Manager's rules for `windowHours`. */
function windows(expression: string, windowHours: number): readonly number[] {
  const parsed = parseRotationSchedule(expression);
  if (!parsed.ok) throw new Error(`${expression}: ${parsed.problem}`);
  const problem = rotationWindowProblem(parsed.schedule, windowHours);
  if (problem) throw new Error(`${expression} with ${windowHours}h: ${problem}`);
  return parsed.schedule.windowOpensAt;
}

describe('spreadRotationSchedule', () => {
  it('turns rate(4 hours) into a cron() with the same 4-hour cadence and window, its offset spread over every hour that fits', () => {
    // WHEN
    const spread = names.map((name) => spreadRotationSchedule(name, 'rate(4 hours)', 1));

    // THEN every schedule is one Secrets Manager accepts with a 1h window, every 4 hours
    const offsets = spread.map((expression) => {
      expect(expression).toMatch(/^cron\(0 [0-3]\/4 \* \* \? \*\)$/);
      const hours = windows(expression, 1);
      expect(hours.slice(1).map((hour, index) => hour - hours[index]!)).toEqual(hours.slice(1).map(() => 4));
      return hours[0]!;
    });
    // and the fleet is spread over the 4 offsets, about a quarter each
    for (const offset of [0, 1, 2, 3]) {
      expect(offsets.filter((each) => each === offset).length).toBeGreaterThan(60);
    }
  });

  it('keeps each window within the UTC day: a 3h window every 4 hours opens at offset 0 or 1 only', () => {
    const offsets = new Set(names.map((name) => windows(spreadRotationSchedule(name, 'rate(4 hours)', 3), 3)[0]));
    expect([...offsets].sort()).toEqual([0, 1]);
  });

  it('turns rate(1 day) into a daily cron() at an hour from 0 to 24 - window', () => {
    const hours = names.map((name) => windows(spreadRotationSchedule(name, 'rate(1 day)', 3), 3));
    expect(hours.every((opens) => opens.length === 1 && opens[0]! <= 21)).toBe(true);
    expect(new Set(hours.map((opens) => opens[0])).size).toBe(22);
  });

  it('depends on the secret’s own name alone: adding secrets moves no other’s schedule', () => {
    const before = names.slice(0, 100).map((name) => spreadRotationSchedule(name, 'rate(6 hours)', 2));
    const after = names.map((name) => spreadRotationSchedule(name, 'rate(6 hours)', 2)).slice(0, 100);
    expect(after).toEqual(before);
  });

  it.each([
    ['rate(7 days)', 2],
    ['cron(0 6 ? * MON-FRI *)', 3],
    ['cron(0 0/4 * * ? *)', 1],
  ])('leaves %s as written', (schedule, window) => {
    expect(spreadRotationSchedule(names[0]!, schedule, window)).toBe(schedule);
  });
});

describe('spreadRefreshSchedule', () => {
  it('refreshes every 10 minutes at a minute offset picked by the secret’s hash', () => {
    const spread = names.map((name) => spreadRefreshSchedule(name, 600));
    for (const { expression, intervalMinutes, firstMinuteOfDay } of spread) {
      expect(intervalMinutes).toBe(10);
      expect(expression).toBe(`cron(${firstMinuteOfDay}/10 * * * ? *)`);
    }
    expect(new Set(spread.map(({ firstMinuteOfDay }) => firstMinuteOfDay)).size).toBe(10);
  });

  it('rounds an interval no cron() repeats down to one that does: 40 minutes refresh every 30', () => {
    expect(spreadRefreshSchedule(names[0]!, 2400)).toMatchObject({
      intervalMinutes: 30,
      expression: expect.stringMatching(/^cron\(([0-9]|[12][0-9])\/30 \* \* \* \? \*\)$/) as unknown,
    });
  });

  it.each([
    [3600, /^cron\([0-5]?[0-9] \* \* \* \? \*\)$/],
    [7200, /^cron\([0-5]?[0-9] [01]\/2 \* \* \? \*\)$/],
    [86_400, /^cron\([0-5]?[0-9] ([01]?[0-9]|2[0-3]) \* \* \? \*\)$/],
  ])('writes an interval of %i seconds in whole hours', (seconds, expression) => {
    expect(spreadRefreshSchedule(names[1]!, seconds).expression).toMatch(expression);
  });
});
