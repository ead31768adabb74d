import * as z from 'zod';
import { RotorProviderName } from '../../lambda/shared/rotor-constants';
import { show } from './show-value';

/**
 * Where the stage's functions run, when the stage needs them in a VPC:
 * - `existing`: subnets of a VPC the team runs, which must already reach the AWS services and the
 *   providers the functions call (a NAT gateway, or endpoints of its own);
 * - `isolated`: a VPC Rotor makes, with isolated subnets in two Availability Zones, endpoints for
 *   every AWS service the functions call, and no route to the internet.
 */
export type RotorVpcConfig =
  | {
      readonly kind: 'existing';
      /** `vpc-...` */
      readonly vpcId: string;
      /** `subnet-...`, at least one; two in different Availability Zones keep the functions up when one fails. */
      readonly subnetIds: readonly string[];
    }
  | {
      readonly kind: 'isolated';
      /** The VPC's IPv4 range, from /16 to /24. */
      readonly cidr: string;
    };

/** The range of a Rotor-made VPC when the file names none: 256 addresses, two subnets of 128. */
export const DEFAULT_ISOLATED_VPC_CIDR = '10.0.0.0/24';

const VPC_ID = /^vpc-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Whether `text` is an IPv4 CIDR block from /16 to /24 with no host bits set. */
function isVpcCidr(text: string): boolean {
  const match = CIDR.exec(text);
  if (match === null) return false;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((octet) => octet > 255) || prefix < 16 || prefix > 24) return false;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  return address % 2 ** (32 - prefix) === 0;
}

const ExistingVpcSchema = z.strictObject({
  vpcId: z.string().regex(VPC_ID, {
    error: (iss) => `must be a VPC id such as "vpc-0123456789abcdef0", got ${show(iss.input)}`,
  }),
  subnetIds: z
    .array(
      z.string().regex(SUBNET_ID, {
        error: (iss) => `must be a subnet id such as "subnet-0123456789abcdef0", got ${show(iss.input)}`,
      }),
    )
    .min(1, { error: 'must list at least one subnet (two in different Availability Zones), got []' })
    .refine((ids) => new Set(ids).size === ids.length, {
      error: (iss) => `must not list a subnet twice, got ${show(iss.input)}`,
    }),
});

const IsolatedVpcSchema = z.strictObject({
  cidr: z
    .string()
    .refine(isVpcCidr, {
      error: (iss) =>
        `must be an IPv4 range from /16 to /24 with no host bits set, such as "10.0.0.0/24", got ${show(iss.input)}`,
    })
    .optional(),
});

/** `vpc` of a stage: exactly one of `existing` and `isolated`. */
export const VpcSchema = z
  .strictObject({ existing: ExistingVpcSchema.optional(), isolated: IsolatedVpcSchema.optional() })
  .refine((vpc) => (vpc.existing === undefined) !== (vpc.isolated === undefined), {
    error: (iss) => `must give exactly one of "existing" and "isolated", got ${show(iss.input)}`,
  });
type VpcFile = z.infer<typeof VpcSchema>;

/** Providers that call out of the stage's network; an isolated VPC cannot reach them. */
export function checkStageVpc(
  stage: { readonly vpc?: VpcFile; readonly secrets: readonly { readonly name: string; readonly provider: string }[] },
  ctx: z.RefinementCtx,
): void {
  if (stage.vpc?.isolated === undefined) return;
  const outbound = stage.secrets.find((secret) => secret.provider !== RotorProviderName.managedToken);
  if (outbound === undefined) return;
  ctx.addIssue({
    code: 'custom',
    path: ['vpc', 'isolated'],
    message: `has no route to the internet, but secret ${show(outbound.name)} (${outbound.provider}) calls its provider there; use "existing" with subnets that reach it (a NAT gateway or private connectivity)`,
  });
}

/** The file's `vpc`, validated. */
export function toVpcConfig(file: VpcFile): RotorVpcConfig {
  if (file.existing !== undefined) {
    return { kind: 'existing', vpcId: file.existing.vpcId, subnetIds: [...file.existing.subnetIds] };
  }
  return { kind: 'isolated', cidr: file.isolated?.cidr ?? DEFAULT_ISOLATED_VPC_CIDR };
}
