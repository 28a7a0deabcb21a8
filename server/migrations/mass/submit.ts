import { TRPCError } from '@trpc/server';
import type { KeyRing } from '../../crypto/keyring';
import type { Db } from '../../db';
import type { Caller } from '../submit-migration';
import type { MassSubmitResult } from './submission-types';

/** Checks the text again, reserves one unit per record and queues the login check. */
export async function submitMassMigration(
  _db: Db,
  _ring: () => Promise<KeyRing>,
  _caller: Caller,
  _text: string,
  _options: { zone: string; now?: Date },
): Promise<MassSubmitResult> {
  throw new TRPCError({ code: 'NOT_IMPLEMENTED', message: 'Mass submission is not available yet.' });
}
