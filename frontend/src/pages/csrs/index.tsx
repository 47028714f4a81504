import { Route, Routes } from 'react-router';
import { CsrsListPage } from './CsrsListPage';

/** The Signing requests section: its own nested routes under /csrs/. */
export default function CsrsSection() {
  return (
    <Routes>
      <Route index element={<CsrsListPage />} />
      <Route path="*" element={<CsrsListPage />} />
    </Routes>
  );
}
