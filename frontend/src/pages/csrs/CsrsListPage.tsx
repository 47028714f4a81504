import { PageHeader } from '../../components/PageHeader';
import { EmptyState } from '../../components/EmptyState';

export function CsrsListPage() {
  return (
    <>
      <PageHeader title="Signing requests" />
      <EmptyState title="Coming soon" text="This screen is not built yet." />
    </>
  );
}
