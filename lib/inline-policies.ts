import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The NIST 800-53 rev 5 finding for a policy written inline to one principal. */
export const INLINE_POLICY_RULE = 'NIST.800.53.R5-IAMNoInlinePolicy';

/**
 * Acknowledges that `scope` (a role made for one purpose, or a policy attached to such a role)
 * holds its permissions in inline policies. Every Rotor role serves one function, one schedule or
 * one CI consumer; its grants name that role's resources, so a managed policy would only add a way
 * to attach them to a second principal.
 */
export function acknowledgeInlinePolicies(scope: IConstruct): void {
  Validations.of(scope).acknowledge({
    id: INLINE_POLICY_RULE,
    reason:
      "Each Rotor role serves one function, schedule or CI consumer, and its statements name that purpose's own resources: an inline policy cannot be attached to another principal and is deleted with its role, which is the separation the rule asks of managed policies.",
  });
}
