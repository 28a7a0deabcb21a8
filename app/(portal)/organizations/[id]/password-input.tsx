'use client';

import { useState } from 'react';
import { Button, Field, TextInput } from '@/components/form';

function randomPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const bytes = crypto.getRandomValues(new Uint8Array(20));
  return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

/** A new password typed or generated in the browser; a generated one is shown so it can be passed on. */
export function PasswordInput({ label, value, onChange, error, hint }: { label: string; value: string; onChange: (value: string) => void; error?: string; hint?: string }) {
  const [shown, setShown] = useState(false);
  return (
    <Field label={label} error={error} hint={hint}>
      <div className="flex gap-2">
        <TextInput
          type={shown ? 'text' : 'password'}
          autoComplete="new-password"
          value={value}
          onChange={(e) => onChange(e.target.value)}
          invalid={!!error}
          className={shown ? 'font-mono tracking-wide' : ''}
        />
        <Button
          type="button"
          variant="secondary"
          onClick={() => {
            onChange(randomPassword());
            setShown(true);
          }}
        >
          Generate
        </Button>
      </div>
    </Field>
  );
}
