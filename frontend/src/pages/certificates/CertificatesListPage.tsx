import { PageHeader } from '../../components/PageHeader';
import { EmptyState } from '../../components/EmptyState';

export function CertificatesListPage() {
  return (
    <>
      <PageHeader title="Certificates" />
      <EmptyState title="Coming soon" text="This screen is not built yet." />
    </>
  );
}
