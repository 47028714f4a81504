import { PageHeader } from '../../components/PageHeader';

export default function RolesPage() {
  return <PageHeader title="Roles" />;
}
