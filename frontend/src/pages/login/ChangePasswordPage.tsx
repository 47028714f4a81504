import { PageHeader } from '../../components/PageHeader';

export default function ChangePasswordPage() {
  return <PageHeader title="Change password" />;
}
