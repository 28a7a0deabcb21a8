import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { recordAudit } from '../audit/audit';
import { db } from '../db';
import { clientAddressFrom } from './client-address';
import { authenticate } from './sign-in';

function clientIp(headers: Record<string, string | string[] | undefined> | undefined): string | null {
  return clientAddressFrom(headers?.['x-forwarded-for']);
}

export const authOptions: NextAuthOptions = {
  session: { strategy: 'jwt', maxAge: 12 * 60 * 60 },
  pages: { signIn: '/login' },
  providers: [
    CredentialsProvider({
      name: 'Email and password',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(credentials, req) {
        if (!credentials?.email || !credentials.password) return null;
        const result = await authenticate(db, {
          email: credentials.email,
          password: credentials.password,
          ip: clientIp(req.headers as Record<string, string | string[] | undefined> | undefined),
        });
        if (result.ok) return { id: result.user.id, email: result.user.email, name: result.user.name, sessionVersion: result.user.sessionVersion };
        // next-auth hands the thrown message to the login page as its error code.
        if (result.reason === 'rate_limited') throw new Error(`RateLimited:${result.retryAfterSeconds}`);
        return null;
      },
    }),
  ],
  events: {
    // With JWT sessions next-auth hands over the token of the session that ends (no request: no IP).
    async signOut({ token }) {
      const userId = typeof token?.sub === 'string' ? token.sub : null;
      if (!userId) return;
      const user = await db.user.findUnique({ where: { id: userId }, select: { id: true, organizationId: true } });
      if (user) await recordAudit(db, { action: 'auth.sign_out', actorUserId: user.id, organizationId: user.organizationId });
    },
  },
  callbacks: {
    jwt({ token, user }) {
      // The user's session version at sign-in; loadSessionUser refuses the token once it moved on.
      if (user) {
        token.sub = user.id;
        token.sv = (user as { sessionVersion?: number }).sessionVersion ?? 0;
      }
      return token;
    },
    session({ session, token }) {
      if (session.user && token.sub) {
        (session.user as { id?: string }).id = token.sub;
        (session.user as { sv?: number }).sv = typeof token.sv === 'number' ? token.sv : 0;
      }
      return session;
    },
  },
};
