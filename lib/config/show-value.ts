/**
 * A config value as messages quote it: JSON, cut at 80 characters. Config values are names and
 * schedules, never secrets, so messages may quote them.
 */
export function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
