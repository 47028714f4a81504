import { Route, Routes } from 'react-router';
import { RequirePermission } from '../../auth/RequireAuth';
import { CertificatesListPage } from './CertificatesListPage';
import { CertificateDetailPage } from './CertificateDetailPage';
import { IssueCertificatePage } from './IssueCertificatePage';
import { NotFound } from './NotFound';

/** The Certificates section: its own nested routes under /certificates/. */
export default function CertificatesSection() {
  return (
    <Routes>
      <Route index element={<CertificatesListPage />} />
      <Route
        path="new"
        element={
          <RequirePermission permission="write:certificates">
            <IssueCertificatePage />
          </RequirePermission>
        }
      />
      <Route path=":id" element={<CertificateDetailPage />} />
      <Route path="*" element={<NotFound />} />
    </Routes>
  );
}
