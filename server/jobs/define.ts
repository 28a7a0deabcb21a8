import type { z } from 'zod';

/**
 * A job's contract: its name (`entity__action`) and the payload schema. Payloads hold ids and
 * options, never secrets. The web side enqueues with the contract; `workers/` implements it.
 */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
}

export function defineJob<S extends z.ZodType>(name: string, payload: S): JobDefinition<S> {
  if (!/^[a-z][a-z0-9_]*__[a-z][a-z0-9_]*$/.test(name)) throw new Error(`Job name ${name} must look like entity__action`);
  return { name, payload };
}

export type JobPayload<J extends JobDefinition> = z.infer<J['payload']>;
