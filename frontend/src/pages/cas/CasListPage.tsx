import { PageHeader } from '../../components/PageHeader';
import { EmptyState } from '../../components/EmptyState';

export function CasListPage() {
  return (
    <>
      <PageHeader title="Certificate authorities" />
      <EmptyState title="Coming soon" text="This screen is not built yet." />
    </>
  );
}
