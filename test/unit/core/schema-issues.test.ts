import { describeSchemaIssues } from '../../../lambda/core/schema-issues';

describe('Function: describeSchemaIssues', () => {
  it('names each failing field by its path and joins the issues', () => {
    // Act
    const description = describeSchemaIssues([
      { path: ['token'], message: 'must be a Rotor token' },
      { path: ['settings', 'endpoints', 0], message: 'Invalid input' },
      { path: [], message: 'must be an object' },
    ]);

    // Assess
    expect(description).toBe(
      "field 'token': must be a Rotor token; field 'settings.endpoints.0': Invalid input; document: must be an object",
    );
  });

  it('describes no issues as an empty string', () => {
    // Act & Assess
    expect(describeSchemaIssues([])).toBe('');
  });
});
