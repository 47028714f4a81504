import { Route, Routes } from 'react-router';
import { CertificatesListPage } from './CertificatesListPage';

/** The Certificates section: its own nested routes under /certificates/. */
export default function CertificatesSection() {
  return (
    <Routes>
      <Route index element={<CertificatesListPage />} />
      <Route path="*" element={<CertificatesListPage />} />
    </Routes>
  );
}
