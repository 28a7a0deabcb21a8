import { handleTrpcRequest } from '@/server/trpc/http';

export const dynamic = 'force-dynamic';

export { handleTrpcRequest as GET, handleTrpcRequest as POST };
