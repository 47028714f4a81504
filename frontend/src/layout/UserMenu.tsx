import { Avatar, Button, Menu, Text } from '@mantine/core';
import { IconChevronDown, IconLogout, IconUser } from '@tabler/icons-react';
import { Link, useNavigate } from 'react-router';
import { useAuth } from '../auth/AuthContext';

export function UserMenu() {
  const { user, logout } = useAuth();
  const navigate = useNavigate();
  if (!user) return null;
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="subtle" color="gray" aria-label={`User menu for ${user.username}`} rightSection={<IconChevronDown size={14} aria-hidden />} px="xs">
          <Avatar size={26} radius="xl" color="indigo" mr={6} aria-hidden>
            {user.username.slice(0, 2).toUpperCase()}
          </Avatar>
          <Text size="sm" visibleFrom="xs">
            {user.username}
          </Text>
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Role: {user.role}</Menu.Label>
        <Menu.Item component={Link} to="/account" leftSection={<IconUser size={14} aria-hidden />}>
          Account
        </Menu.Item>
        <Menu.Item
          leftSection={<IconLogout size={14} aria-hidden />}
          onClick={async () => {
            await logout();
            navigate('/login', { replace: true });
          }}
        >
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
