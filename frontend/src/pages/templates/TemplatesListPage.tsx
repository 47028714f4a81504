import { PageHeader } from '../../components/PageHeader';
import { EmptyState } from '../../components/EmptyState';

export function TemplatesListPage() {
  return (
    <>
      <PageHeader title="Templates" />
      <EmptyState title="Coming soon" text="This screen is not built yet." />
    </>
  );
}
