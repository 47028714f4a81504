import { Link } from 'react-router';
import { Button } from '@mantine/core';
import { EmptyState } from '../../components/EmptyState';
import { PageHeader } from '../../components/PageHeader';

export function NotFound() {
  return (
    <>
      <PageHeader title="Page not found" />
      <EmptyState title="Nothing here" text="This address names no page." action={<Button component={Link} to="/">Home</Button>} />
    </>
  );
}
