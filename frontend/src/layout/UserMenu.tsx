import { Avatar, Button, Menu, Text, VisuallyHidden } from '@mantine/core';
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
        {/* Named by its text ("User menu for <user>"): the visible username
            is part of the name; below xs it is only read out. */}
        <Button variant="subtle" color="gray" rightSection={<IconChevronDown size={14} aria-hidden />} px="xs">
          <Avatar size={26} radius="xl" color="indigo" mr={6} aria-hidden>
            {user.username.slice(0, 2).toUpperCase()}
          </Avatar>
          <VisuallyHidden component="span">User menu for</VisuallyHidden>{' '}
          <Text component="span" size="sm" className="user-menu-name">
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
