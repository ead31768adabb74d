/** The parts of a schema issue that are safe to show: where it is and what rule failed, never the value. */
export interface SchemaIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/** `field 'token': must be ...; field 'provider': Invalid input`. */
export function describeSchemaIssues(issues: readonly SchemaIssue[]): string {
  return issues
    .map(
      (issue) =>
        `${issue.path.length === 0 ? 'document' : `field '${issue.path.map(String).join('.')}'`}: ${issue.message}`,
    )
    .join('; ');
}
