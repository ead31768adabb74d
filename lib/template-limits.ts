import { CfnResource, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** CloudFormation's most resources in one template (stack or nested stack). */
export const MAX_TEMPLATE_RESOURCES = 500;

/** A template over CloudFormation's resource limit: its stack and how many resources it would hold. */
export interface OverfullTemplate {
  readonly stack: Stack;
  readonly resources: number;
}

/**
 * The stacks and nested stacks under `root` (itself included) whose templates would hold more
 * than {@link MAX_TEMPLATE_RESOURCES} resources, counted before synth so that the operator gets
 * Rotor's one-line answer rather than CDK's TooManyResourcesInStack trace.
 */
export function overfullTemplates(root: Stack): OverfullTemplate[] {
  const counts = new Map<Stack, number>();
  const visit = (construct: IConstruct): void => {
    if (CfnResource.isCfnResource(construct)) {
      const stack = Stack.of(construct);
      counts.set(stack, (counts.get(stack) ?? 0) + 1);
    }
    for (const child of construct.node.children) visit(child);
  };
  visit(root);
  return [...counts]
    .filter(([, resources]) => resources > MAX_TEMPLATE_RESOURCES)
    .map(([stack, resources]) => ({ stack, resources }));
}
