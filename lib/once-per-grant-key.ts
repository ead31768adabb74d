import { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

/**
 * `key` as a stage's rotated secrets see it: a grant that repeats an earlier one (same method,
 * principal, conditions and actions) returns the earlier grant instead of adding its statement again.
 *
 * Every Secrets Manager secret grants Secrets Manager, acting for the account, the same two
 * statements on its key. With one key per stage, a stage of 1,000 secrets gave the key policy
 * 2,004 statements, which CDK merges back into a few at synthesis in time quadratic in their
 * number (about 15 of the 37 CPU seconds of such a stage's synthesis). The template is unchanged:
 * the merge made identical statements one anyway.
 */
export function oncePerGrantKey(key: kms.IKey): kms.IKey {
  const granted = new Map<string, iam.Grant>();
  const once =
    (method: 'grant' | 'grantEncryptDecrypt') =>
    (grantee: iam.IGrantable, ...actions: string[]): iam.Grant => {
      const fragment = grantee.grantPrincipal.policyFragment;
      // A construct's stack path too: resources of two stacks may share a logical id.
      const owner = Construct.isConstruct(grantee.grantPrincipal) ? Stack.of(grantee.grantPrincipal).node.path : '';
      const identity = JSON.stringify(
        Stack.of(key).resolve([method, owner, fragment.principalJson, fragment.conditions, actions]),
      );
      let result = granted.get(identity);
      if (result === undefined) {
        result = method === 'grant' ? key.grant(grantee, ...actions) : key.grantEncryptDecrypt(grantee);
        granted.set(identity, result);
      }
      return result;
    };
  return new Proxy(key, {
    get(target, property, receiver) {
      if (property === 'grant' || property === 'grantEncryptDecrypt') return once(property);
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}
