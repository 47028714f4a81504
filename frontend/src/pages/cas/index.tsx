import { Route, Routes } from 'react-router';
import { CasListPage } from './CasListPage';

/** The Certificate authorities section: its own nested routes under /cas/. */
export default function CasSection() {
  return (
    <Routes>
      <Route index element={<CasListPage />} />
      <Route path="*" element={<CasListPage />} />
    </Routes>
  );
}
